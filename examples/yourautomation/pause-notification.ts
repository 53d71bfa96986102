import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Duration, type EndpointPausedInfo, parseDuration } from 'hookrelay';

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

/** What the email needs from the host's configuration. */
export interface PauseEmailSettings {
  /** Base URL shown in the reactivation `curl`. */
  apiBaseUrl: string;
  /** The `retry.schedule` the service runs with, so the email states the policy that actually failed. */
  retrySchedule: readonly Duration[];
}

function reasonText(reason: EndpointPausedInfo['reason'], retrySchedule: readonly Duration[]): string {
  const retries = retrySchedule.length > 0 ? retrySchedule.map(formatDelay).join(', ') : 'no retries';
  const reasons: Record<EndpointPausedInfo['reason'], string> = {
    failing: `every delivery attempt of the retry policy (${retries}) failed`,
    gone: 'your endpoint answered 410 Gone',
    manual: 'it was paused through the API',
  };
  return reasons[reason];
}

/** A delay in the largest unit that divides it: '2m' → '2min', 1500 → '1500ms', '90s' → '90s'. */
function formatDelay(delay: Duration): string {
  const ms = parseDuration(delay);
  if (ms === undefined) return String(delay);
  const units = [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1_000]] as const;
  const unit = units.find(([, size]) => ms >= size && ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}

/**
 * The seed: "After all retries fail, the webhook is paused and you receive an email notification.
 * Reactivate paused webhooks from the dashboard or via the API." hookrelay pauses the endpoint and
 * calls `onEndpointPaused`; rendering and sending the email is the host's job, as here.
 */
export function renderPauseEmail(info: EndpointPausedInfo, contact: OrgContact, { apiBaseUrl, retrySchedule }: PauseEmailSettings): RenderedEmail {
  const { endpoint, reason } = info;
  return {
    to: contact.email,
    subject: `[YourAutomation] Webhook ${endpoint.id} has been paused`,
    text: [
      `Hi ${contact.name},`,
      '',
      `We paused your webhook ${endpoint.id} (${endpoint.url}) because ${reasonText(reason, retrySchedule)}.`,
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
