/** The seed's "Available Events" table, verbatim: the catalog endpoints may subscribe to. */
export const YOUR_AUTOMATION_EVENTS = {
  'execution.started': 'Agent execution has begun',
  'execution.completed': 'Agent execution finished successfully',
  'execution.failed': 'Agent execution encountered an error',
  'execution.cancelled': 'Agent execution was cancelled',
  'tool.called': 'Agent called a tool during execution',
  'tool.error': 'A tool call failed',
  'agent.created': 'A new agent was created',
  'agent.updated': 'An agent was modified',
  'agent.deleted': 'An agent was deleted',
  'key.created': 'A new API key was created',
  'key.revoked': 'An API key was revoked',
} as const;

export type YourAutomationEventType = keyof typeof YOUR_AUTOMATION_EVENTS;

export const YOUR_AUTOMATION_EVENT_TYPES = Object.keys(YOUR_AUTOMATION_EVENTS) as YourAutomationEventType[];
