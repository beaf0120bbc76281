#!/usr/bin/env node
// The peer of pyck's push benchmark: PouchDB replicating N documents shaped
// like pyck operations from a local in-memory PouchDB to an express-pouchdb
// server (in-memory too) over loopback, with PouchDB's default replication
// settings.
//
//   node peer.js [--docs N]
//
// The server runs in a child process of its own, so client and server each
// have a core, as pyck's terminal and server do in the same benchmark. It
// listens on 127.0.0.1 only. Prints one JSON line on stdout:
//   {"docs":N,"elapsed_s":…,"docs_per_s":…,"wire_bytes_in":…,"wire_bytes_out":…,…}
// where elapsed_s times the replication alone (the documents are written to
// the local database before the clock starts) and wire_bytes_* are what the
// server's sockets read and wrote (HTTP headers included).
'use strict';

const { fork } = require('node:child_process');

function pouch() {
  return require('pouchdb-core')
    .plugin(require('pouchdb-adapter-memory'))
    .plugin(require('pouchdb-adapter-http'))
    .plugin(require('pouchdb-replication'));
}

// ---------------------------------------------------------------------------
// Server (child process)
// ---------------------------------------------------------------------------

function serve() {
  const express = require('express');
  const ServerPouch = pouch().defaults({ adapter: 'memory' });
  const app = express();
  app.use(
    '/',
    require('express-pouchdb')(ServerPouch, {
      mode: 'minimumForPouchDB',
      inMemoryConfig: true,
      logPath: '/dev/null',
    }),
  );
  const sockets = new Set();
  let bytesIn = 0;
  let bytesOut = 0;
  const server = app.listen(0, '127.0.0.1', () => {
    process.send({ port: server.address().port });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  process.on('message', (msg) => {
    if (msg === 'bytes') {
      let i = bytesIn;
      let o = bytesOut;
      for (const s of sockets) {
        i += s.bytesRead;
        o += s.bytesWritten;
      }
      process.send({ bytesIn: i, bytesOut: o });
    } else if (msg === 'stop') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function ask(child, msg, key) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m && m[key] !== undefined) {
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    if (msg) child.send(msg);
  });
}

// A document like one pyck `move` operation (docs/PROTOCOL.md).
function operation(device, seq) {
  const hex = seq.toString(16).padStart(12, '0');
  const at = new Date(Date.UTC(2026, 10, 23, 8, 0, 0) + seq * 1000).toISOString();
  return {
    _id: `0196a000-0000-7000-8000-${hex}`,
    device,
    seq,
    operator: '1007',
    at,
    kind: 'move',
    payload: {
      sku: `SKU-${String(10000 + (seq % 10000)).padStart(5, '0')}`,
      lot: null,
      qty: 1 + (seq % 12),
      from: `A-${String(1 + (seq % 40)).padStart(2, '0')}-01`,
      to: `B-${String(1 + (seq % 40)).padStart(2, '0')}-02`,
    },
  };
}

async function main() {
  const docs = Number.parseInt(arg('--docs', '10000'), 10);
  if (!(docs > 0)) throw new Error('--docs must be a positive number');
  const child = fork(__filename, ['--server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const { port } = await ask(child, null, 'port');
    const PouchDB = pouch();
    const local = new PouchDB(`bench-local-${process.pid}`, { adapter: 'memory' });
    const device = '0196a000-0000-7000-8000-d00000000001';
    const all = [];
    for (let seq = 1; seq <= docs; seq++) all.push(operation(device, seq));
    for (let i = 0; i < all.length; i += 1000) {
      await local.bulkDocs(all.slice(i, i + 1000));
    }
    const remote = `http://127.0.0.1:${port}/operations`;
    // Create the remote database before the clock starts.
    await new PouchDB(remote).info();
    const start = process.hrtime.bigint();
    const result = await local.replicate.to(remote);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (!result.ok || result.docs_written !== docs) {
      throw new Error(`replication wrote ${result.docs_written} of ${docs} documents`);
    }
    const remoteInfo = await new PouchDB(remote).info();
    if (remoteInfo.doc_count !== docs) {
      throw new Error(`the server holds ${remoteInfo.doc_count} of ${docs} documents`);
    }
    const { bytesIn, bytesOut } = await ask(child, 'bytes', 'bytesIn');
    const versions = {
      node: process.version,
      'pouchdb-core': require('pouchdb-core/package.json').version,
      'express-pouchdb': require('express-pouchdb/package.json').version,
    };
    process.stdout.write(
      `${JSON.stringify({
        docs,
        elapsed_s: elapsed,
        docs_per_s: docs / elapsed,
        wire_bytes_in: bytesIn,
        wire_bytes_out: bytesOut,
        versions,
      })}\n`,
    );
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--server')) {
  serve();
} else {
  main().catch((e) => {
    console.error(`peer.js: ${e.stack || e}`);
    process.exit(1);
  });
}
