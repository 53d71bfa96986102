// Loopback receiver for the latency benchmark: prints "<event id> <epoch ms, sub-ms precision>" for
// each POST the moment its body has arrived, then answers 200.
import http from 'node:http';
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    const id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id;
    process.stdout.write(`${id} ${at}\n`);
    res.writeHead(200);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
