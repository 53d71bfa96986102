// The rule lives in the delivery state machine; this name stays until every storage imports it from there.
export { placeAtWrite as heldDeliveryAtWrite, type EndpointState as EndpointStateAtWrite } from '../delivery/transitions.js';
