// A streaming Node.js function: the caller receives each line as it is
// written, long before the function ends.
//
// Deploy, then read the stream with any AWS SDK's InvokeWithResponseStream
// (the aws CLI v1 has no command for it):
//
//   updraft function create stream-node --runtime nodejs20.x --handler index.handler --code examples/stream-node
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const lines = Math.min(Number(event.lines) || 5, 100);
  for (let i = 1; i <= lines; i++) {
    responseStream.write(`line ${i} of ${lines} at ${new Date().toISOString()}\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  responseStream.end();
});
