#!/usr/bin/env node
// Converts one advspark Parquet table (a folder written by Spark) to JSON lines on stdout, for
// Python environments without a Parquet reader (Debian has neither pyarrow nor fastparquet).
//
//   node notebooks/parquet_to_jsonl.mjs <table-folder-or-file> [--schema <file>]
//
// - Reads every data file under the folder, recursively, in path order. Names starting with '_'
//   or '.' (Spark's _SUCCESS, .crc checksums, hidden temp files) are not data and are skipped, at
//   every level.
// - Hive partition folders `k=v` become string columns `k` (value %XX-unescaped as Spark escapes
//   it; __HIVE_DEFAULT_PARTITION__ is null). A partition value wins over a same-named column
//   stored in the file.
// - One JSON object per row, every column present (null when missing).
// - Values JSON cannot carry exactly are written as strings: 64-bit integers outside
//   +-(2^53 - 1) as decimal strings, NaN / Infinity / -Infinity as "NaN" / "Infinity" /
//   "-Infinity". advspark_tables.py turns them back into numbers using the schema.
//   Decimals arrive as (inexact) doubles; binary (non-UTF8) columns as base64 strings;
//   timestamps and dates as ISO-8601 strings.
// - --schema <file> writes {"columns":[{"name","type","partition"}...],"files":N,"rows":N} with
//   type one of: string, boolean, int8, int16, int32, int64, float, double, decimal, binary,
//   timestamp (local, e.g. INT96), timestamp_utc, date, list<T>, map, struct. Columns are in first-seen order, partitions last.
//
// Dependencies: hyparquet + hyparquet-compressors (snappy, zstd, gzip, brotli, lz4), pinned in
// notebooks/package.json. Install once with `npm ci --prefix notebooks`.
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

let hyparquet, compressors
try {
  hyparquet = await import('hyparquet')
  ;({ compressors } = await import('hyparquet-compressors'))
} catch (e) {
  process.stderr.write(`parquet_to_jsonl: cannot load hyparquet (${e.message}).\n` +
    'Install the pinned dependencies once: npm ci --prefix notebooks\n')
  process.exit(3)
}
const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = hyparquet

function usage(msg) {
  process.stderr.write(`parquet_to_jsonl: ${msg}\n` +
    'usage: node parquet_to_jsonl.mjs <table-folder-or-file> [--schema <file>]\n')
  process.exit(2)
}

const args = process.argv.slice(2)
let root, schemaOut
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--schema') schemaOut = args[++i] ?? usage('--schema needs a file')
  else if (root === undefined) root = args[i]
  else usage(`unexpected argument ${args[i]}`)
}
if (root === undefined) usage('no table given')

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', e => process.exit(e.code === 'EPIPE' ? 0 : 1))

function fail(msg) {
  process.stderr.write(`parquet_to_jsonl: ${msg}\n`)
  process.exit(4)
}

const isData = name => !name.startsWith('_') && !name.startsWith('.')

/** Data files under dir (recursively, sorted), each with its partition values. */
function dataFiles(dir) {
  const out = []
  const walk = (d, parts) => {
    for (const name of readdirSync(d).sort()) {
      if (!isData(name)) continue
      const p = join(d, name)
      const st = statSync(p)
      if (st.isDirectory()) {
        const eq = name.indexOf('=')
        const next = eq > 0 ? [...parts, [name.slice(0, eq), partitionValue(name.slice(eq + 1))]] : parts
        walk(p, next)
      } else if (st.isFile()) {
        out.push({ path: p, parts })
      }
    }
  }
  walk(dir, [])
  return out
}

function partitionValue(raw) {
  if (raw === '__HIVE_DEFAULT_PARTITION__') return null
  try { return decodeURIComponent(raw) } catch { return raw }
}

/** Column type name from a hyparquet schema node (see the header). */
function typeOf(node) {
  const el = node.element
  if (node.children.length) {
    const ct = el.converted_type ?? el.logical_type?.type
    if (ct === 'LIST') {
      let leaf = node
      while (leaf.children.length) leaf = leaf.children[0]
      return `list<${typeOf(leaf)}>`
    }
    if (ct === 'MAP' || ct === 'MAP_KEY_VALUE') return 'map'
    return 'struct'
  }
  const lt = el.logical_type?.type
  const ct = el.converted_type
  if (lt === 'STRING' || lt === 'ENUM' || lt === 'JSON' || ct === 'UTF8' || ct === 'ENUM' || ct === 'JSON') return 'string'
  if (lt === 'DECIMAL' || ct === 'DECIMAL') return 'decimal'
  if (lt === 'DATE' || ct === 'DATE') return 'date'
  // instants (UTC-adjusted) vs local times (INT96, as Spark writes by default: naive in pandas too)
  if (lt === 'TIMESTAMP') return el.logical_type.isAdjustedToUTC ? 'timestamp_utc' : 'timestamp'
  if (ct?.startsWith('TIMESTAMP')) return 'timestamp_utc'
  if (el.type === 'INT96') return 'timestamp'
  if (lt === 'INTEGER' && el.logical_type.bitWidth <= 16) return `int${el.logical_type.bitWidth}`
  if (ct === 'INT_8' || ct === 'INT_16') return `int${ct.slice(4)}`
  switch (el.type) {
    case 'BOOLEAN': return 'boolean'
    case 'INT32': return 'int32'
    case 'INT64': return 'int64'
    case 'FLOAT': return 'float'
    case 'DOUBLE': return 'double'
    default: return 'binary'
  }
}

/** A parquet value as JSON-safe data (see the header for what becomes a string). */
function jsonValue(v) {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'bigint':
      return v >= -Number.MAX_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString()
    case 'number':
      return Number.isFinite(v) ? v : String(v)
    case 'string':
    case 'boolean':
      return v
  }
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (Array.isArray(v)) return v.map(jsonValue)
  if (ArrayBuffer.isView(v)) return Array.from(v, jsonValue)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonValue(x)]))
  const o = {}
  for (const [k, x] of Object.entries(v)) o[k] = jsonValue(x)
  return o
}

// stdout with back-pressure (a pipe into Python may be slower than we are).
let pending = []
let pendingBytes = 0
async function emit(line) {
  pending.push(line)
  pendingBytes += line.length
  if (pendingBytes > 1 << 20) await flush()
}
async function flush() {
  if (!pending.length) return
  const chunk = pending.join('')
  pending = []
  pendingBytes = 0
  if (!process.stdout.write(chunk)) await new Promise(resolve => process.stdout.once('drain', resolve))
}

let st
try { st = statSync(root) } catch { fail(`no such table folder: ${root}`) }
const files = st.isDirectory() ? dataFiles(root) : [{ path: root, parts: [] }]

const columns = new Map() // name -> type, file columns in first-seen order
const partitionNames = []
for (const f of files) for (const [k] of f.parts) if (!partitionNames.includes(k)) partitionNames.push(k)

// First pass: schemas (footers only), so every row can carry every column.
const metas = []
for (const f of files) {
  const file = await asyncBufferFromFile(f.path)
  let metadata
  try {
    metadata = await parquetMetadataAsync(file)
  } catch (e) {
    fail(`${f.path} is not a Parquet file (${e.message})`)
  }
  for (const child of parquetSchema(metadata).children) {
    const name = child.element.name
    if (!columns.has(name) && !partitionNames.includes(name)) columns.set(name, typeOf(child))
  }
  metas.push({ file, metadata })
}
const fileColumns = [...columns.keys()]

let rows = 0
for (let i = 0; i < files.length; i++) {
  const { file, metadata } = metas[i]
  const parts = files[i].parts
  let start = 0
  for (const rg of metadata.row_groups) {
    const end = start + Number(rg.num_rows)
    if (end > start) {
      // utf8: false keeps un-annotated BYTE_ARRAY (binary) as bytes; STRING columns are still text
      const objs = await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: end, utf8: false })
      for (const o of objs) {
        const row = {}
        for (const c of fileColumns) row[c] = jsonValue(o[c])
        for (const p of partitionNames) row[p] = null
        for (const [k, v] of parts) row[k] = v
        await emit(JSON.stringify(row) + '\n')
      }
      rows += objs.length
    }
    start = end
  }
}
await flush()

if (schemaOut) {
  const schema = {
    table: root,
    files: files.length,
    rows,
    columns: [
      ...fileColumns.map(name => ({ name, type: columns.get(name), partition: false })),
      ...partitionNames.map(name => ({ name, type: 'string', partition: true })),
    ],
    data_files: files.map(f => relative(root, f.path).split(sep).join('/')),
  }
  writeFileSync(schemaOut, JSON.stringify(schema, null, 1) + '\n')
}
