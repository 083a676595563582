'use strict';

const http = require('http');
const { adler32 } = require('./build/Release/checksum.node');

const port = Number(process.env.PORT || 3000);

http.createServer((req, res) => {
  const text = 'hello from a native addon';
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`${text}: adler32=${adler32(text).toString(16)} (node ${process.versions.node.split('.')[0]})\n`);
}).listen(port, '127.0.0.1');
