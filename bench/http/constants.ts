/** Shared by the load generator and the servers it drives. */
export const TOKEN = 'Bearer bench';
export const CREATE_BODY = JSON.stringify({ url: 'https://hooks.example.com/bench', events: ['execution.completed'], description: 'bench' });
