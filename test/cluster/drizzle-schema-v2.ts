/**
 * The next version of test/cluster/drizzle-schema.ts, for `drizzle-kit push` to migrate
 * to: `authors` gains `bio`, and a table `reviews` appears (self-contained: drizzle-kit
 * loads this file on its own).
 */
import { boolean, index, integer, numeric, pgTable, serial, text, timestamp, varchar } from 'drizzle-orm/pg-core'

export const authors = pgTable('authors', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  email: varchar('email', { length: 200 }).notNull().unique(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at').defaultNow(),
  bio: text('bio'),
})

export const books = pgTable('books', {
  id: serial('id').primaryKey(),
  authorId: integer('author_id').references(() => authors.id),
  title: text('title').notNull(),
  price: numeric('price', { precision: 8, scale: 2 }),
  pages: integer('pages').default(0),
}, (t) => [index('books_author_idx').on(t.authorId)])

export const reviews = pgTable('reviews', {
  id: serial('id').primaryKey(),
  bookId: integer('book_id').notNull().references(() => books.id, { onDelete: 'cascade' }),
  stars: integer('stars').notNull(),
}, (t) => [index('reviews_book_idx').on(t.bookId, t.stars)])
