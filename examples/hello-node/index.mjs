// The smallest Node.js function: the same greeting as examples/hello-go.
//
// Deploy and invoke:
//
//   updraft function create hello-node --runtime nodejs20.x --handler index.handler --code examples/hello-node
//   updraft invoke hello-node --payload '{"name":"Ada"}' --log
export const handler = async (event, context) => {
  const name = (event && event.name) || 'world';
  console.log(`greeting ${name}`);
  return { message: `Hello, ${name}!`, requestId: context.awsRequestId };
};
