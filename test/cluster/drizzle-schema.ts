/**
 * The schema test/cluster/drizzle.test.ts gives Drizzle ORM and `drizzle-kit push`
 * (drizzle-kit loads this file itself). `withBio` is the next version of `authors`.
 */
import { relations } from 'drizzle-orm'
import { boolean, index, integer, numeric, pgTable, serial, text, timestamp, varchar } from 'drizzle-orm/pg-core'

export const authors = pgTable('authors', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  email: varchar('email', { length: 200 }).notNull().unique(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at').defaultNow(),
})

export const books = pgTable('books', {
  id: serial('id').primaryKey(),
  authorId: integer('author_id').references(() => authors.id),
  title: text('title').notNull(),
  price: numeric('price', { precision: 8, scale: 2 }),
  pages: integer('pages').default(0),
}, (t) => [index('books_author_idx').on(t.authorId)])

export const authorsRelations = relations(authors, ({ many }) => ({ books: many(books) }))
export const booksRelations = relations(books, ({ one }) => ({ author: one(authors, { fields: [books.authorId], references: [authors.id] }) }))
