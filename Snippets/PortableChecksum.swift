// A row's portable checksum, as PostgreSQL, Snowflake and SQLite compute it in the database.
import CutoverCore

// Each column is spelled in the form both engines share: a decimal scaled to an integer, a
// timestamp as microseconds since the epoch, a float as its IEEE-754 bits.
let forms: [ChecksumForm] = [.number(scale: 2), .timestamp(zoned: true), .float(bits: 64)]
let values: [Value] = [.text("12.50"), .text("2024-03-31 01:47:00+02"), .double(0.1)]
let texts = zip(forms, values).map { form, value in form.text(value) }
print(texts.map { $0 ?? "NULL" })  // ["1250", "1711842420000000", "3fb999999999999a"]

// Framed (`length:text`, NULL as `-`) and hashed: the first 60 bits of the MD5.
let hash = PortableChecksum.hash(texts)
print(String(hash, radix: 16))
