// An h2c server that answers every POST like a gRPC unary method: one length-prefixed message and
// trailers grpc-status 0. Faster than a @grpc/grpc-js server, so the proxy, not the server, sets the
// pace. Prints {"port":N} on stdout once listening. Used by client-choice.mjs (forked) and grpc-unary.mjs.
import http2 from 'node:http2'

const MESSAGE = Buffer.concat([Buffer.from([0, 0, 0, 0, 64]), Buffer.alloc(64, 1)])
let connections = 0
const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } })
server.on('connection', () => connections++)
server.on('stream', (stream) => {
  stream.on('data', () => {})
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }))
    stream.end(MESSAGE)
  })
  stream.on('error', () => {})
})
process.on('message', (message) => {
  if (message === 'connections') {
    process.send?.({ connections })
    connections = 0
  }
})
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port
  if (process.send !== undefined) process.send({ port })
  else console.log(JSON.stringify({ port }))
})
