import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's (session time zone UTC).
describe('to_char(timestamp) knows PostgreSQL template patterns', () => {
  it('eras, ISO week-numbering years, fractional seconds, zone offsets, lowercase patterns and TM/FX/SP', async () => {
    expect(await rows(`SELECT to_char('2001-02-03 04:05:06.789'::timestamp,
      'TZ|tz|OF|TZH:TZM|A.D.|ad|BC|b.c.|IYYY IYY IY I IDDD ID|hh24 mi ss ff1 FF4 ff6|yyyy mm dd ddd|Month month MON|SSSSS|FXYYYY|TMMonth|DDSP|DDTH|Ddth|IW|iw|rm|q|cc')`))
      .toEqual([['||+00|+00:00|A.D.|ad|AD|a.d.|2001 001 01 1 034 6|04 05 06 7 7890 789000|2001 02 03 034|February  february  FEB|14706|2001|February|03|03RD|77th|05|05|ii  |1|21']])
    expect(await rows(`SELECT to_char('2001-02-03 04:05:06'::timestamptz, 'TZ|tz|OF|TZH:TZM'), to_char('0097-02-03 BC'::timestamp, 'YYYY BC AD bc IYYY CC Y,YYY')`))
      .toEqual([['UTC|utc|+00|+00:00', '0097 BC BC bc 0097 -01 0,097']])
    expect(await rows(`SELECT to_char(d, 'IYYY IW IDDD ID') FROM (VALUES ('2008-12-29'::timestamp), ('2010-01-03'), ('2005-01-01')) t(d)`))
      .toEqual([['2009 01 001 1'], ['2009 53 371 7'], ['2004 53 370 6']])
  })

  it('copies quoted text with its backslash escapes, and is NULL for infinity', async () => {
    expect(await rows(`SELECT to_char('1997-02-10 17:32:01'::timestamp, E'"HH:MI:SS is" HH:MI:SS "\\\\"text between quote marks\\\\""'),
      to_char('infinity'::timestamp, 'YYYY'), to_char('-infinity'::date, 'YYYY')`))
      .toEqual([['HH:MI:SS is 05:32:01 "text between quote marks"', null, null]])
  })

  it('prints the month of an interval in roman numerals, whole years as December', async () => {
    expect(await rows(`SELECT i, to_char(i * interval '1mon', 'RM'), to_char(i * interval '1mon', 'rm') FROM generate_series(-13, 13, 6) i`))
      .toEqual([[-13, 'XII ', 'xii '], [-7, 'VI  ', 'vi  '], [-1, 'XII ', 'xii '], [5, 'V   ', 'v   '], [11, 'XI  ', 'xi  ']])
  })
})
