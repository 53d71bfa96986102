import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndpointPausedInfo } from 'hookrelay';

/** What the host knows about the owner of an organization: where the notification goes. */
export interface OrgContact {
  orgId: string;
  email: string;
  name: string;
}

export interface RenderedEmail {
  to: string;
  subject: string;
  text: string;
}

const REASONS = {
  failing: 'every delivery attempt of the retry policy (1s, 5s, 30s, 2min, 10min) failed',
  gone: 'your endpoint answered 410 Gone',
  manual: 'it was paused through the API',
} as const;

/**
 * The seed: "After all retries fail, the webhook is paused and you receive an email notification.
 * Reactivate paused webhooks from the dashboard or via the API." hookrelay pauses the endpoint and
 * calls `onEndpointPaused`; rendering and sending the email is the host's job, as here.
 */
export function renderPauseEmail(info: EndpointPausedInfo, contact: OrgContact, apiBaseUrl: string): RenderedEmail {
  const { endpoint, reason } = info;
  return {
    to: contact.email,
    subject: `[YourAutomation] Webhook ${endpoint.id} has been paused`,
    text: [
      `Hi ${contact.name},`,
      '',
      `We paused your webhook ${endpoint.id} (${endpoint.url}) because ${REASONS[reason]}.`,
      `Subscribed events: ${endpoint.events.join(', ')}.`,
      '',
      'Events for this webhook are kept while it is paused and are delivered once you reactivate it:',
      '',
      `  curl -X PATCH ${apiBaseUrl}/v1/webhooks/${endpoint.id} \\`,
      `    -H "Authorization: Bearer $YA_API_KEY" -H "Content-Type: application/json" \\`,
      `    -d '{"status": "active"}'`,
      '',
      '— YourAutomation',
    ].join('\n'),
  };
}

/** Delivers a rendered email: to the console, or as a `.eml`-style text file in `directory`. */
export function emailOutbox(directory: string | undefined): (email: RenderedEmail) => Promise<string> {
  return async (email) => {
    const message = `To: ${email.to}\nSubject: ${email.subject}\n\n${email.text}\n`;
    if (!directory) {
      console.log(`\n----- email -----\n${message}-----------------\n`);
      return 'console';
    }
    await mkdir(directory, { recursive: true });
    const file = join(directory, `${Date.now()}-${email.subject.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.txt`);
    // Written aside and renamed, so whoever watches the directory never reads half an email.
    await writeFile(`${file}.partial`, message);
    await rename(`${file}.partial`, file);
    console.log(`email to ${email.to} written to ${file}`);
    return file;
  };
}
