// Runs the SQL of a file with the DuckDB that npm's @duckdb/node-api installed under a folder, and prints the
// rows of its last statement as one JSON array (values as DuckDB's JSON form: text for JSON columns).
//   node duckdb_query.js NODE_PREFIX QUERY.sql    (run from the folder the query's relative paths start at)
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [prefix, queryFile] = process.argv.slice(2);
const { DuckDBInstance } = createRequire(path.join(path.resolve(prefix), 'package.json'))('@duckdb/node-api');

(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(fs.readFileSync(queryFile, 'utf8'));
  process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
})().catch((error) => {
  process.stderr.write(`duckdb: ${error.message}\n`);
  process.exit(1);
});
