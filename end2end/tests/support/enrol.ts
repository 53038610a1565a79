/**
 * New patients for tests: someone who is not yet a patient of the clinic (different in every
 * run), and a quick way to take them through enrolment without a browser, for tests whose
 * subject comes after it. (enrolment.spec.ts takes the same steps through the pages.)
 *
 * The quick way posts the pages' own forms, as a browser without JavaScript does, with the
 * portal's origin (the cross-site check) and the person's own client address (the per-address
 * limits; the server must trust X-Forwarded-For: see ACCOUNTS in servers.ts).
 */
import { request, type APIRequestContext, type APIResponse } from '@playwright/test';
import { expect } from './fixtures';
import { waitForMail } from './mail';
import { uniqueClientAddress, uniqueLetters } from './people';
import { DEMO_PASSWORD, type PortalServer } from './servers';

export interface NewPerson {
  givenName: string;
  familyName: string;
  fullName: string;
  dateOfBirth: string;
  email: string;
  userId: string;
  password: string;
  /** The client address the person's browser appears to come from. */
  clientAddress: string;
}

export function newPerson(): NewPerson {
  const id = uniqueLetters();
  return {
    givenName: 'Dora',
    familyName: `Quill${id}`,
    fullName: `Dora Quill${id}`,
    dateOfBirth: '1979-06-23',
    email: `dora.${id}@example.org`,
    userId: `dora.${id}`,
    password: 'amber lantern over quiet hills',
    clientAddress: uniqueClientAddress(),
  };
}

async function browserless(server: PortalServer, clientAddress?: string): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: server.url,
    extraHTTPHeaders: {
      Origin: server.url,
      Accept: 'text/html',
      ...(clientAddress ? { 'X-Forwarded-For': clientAddress } : {}),
    },
  });
}

/** Posts a form and returns where the server sends the browser next. */
async function post(api: APIRequestContext, path: string, form: Record<string, string>): Promise<string> {
  const answer: APIResponse = await api.post(path, { form, maxRedirects: 0 });
  expect(answer.status(), `POST ${path}`).toBeGreaterThanOrEqual(300);
  expect(answer.status(), `POST ${path}`).toBeLessThan(400);
  return answer.headers()['location'] ?? '';
}

async function page(api: APIRequestContext, path: string): Promise<string> {
  const answer = await api.get(path, { maxRedirects: 0 });
  expect(answer.status(), `GET ${path}`).toBe(200);
  return answer.text();
}

/**
 * Takes `person` through enrolment on `server`: the request, the front desk's approval with a
 * new patient record (the code e-mailed), the activation with that code, the user ID and
 * password. Afterwards the person has an account and is signed out.
 */
export async function enrol(server: PortalServer, person: NewPerson): Promise<void> {
  const since = Date.now();
  const patient = await browserless(server, person.clientAddress);
  const staff = await browserless(server);
  try {
    const form = await page(patient, '/enrol');
    const termsId = /name="terms_id" value="([^"]*)"/.exec(form)?.[1];
    expect(termsId, 'the terms version on the enrolment form').toBeDefined();
    expect(
      await post(patient, '/api/enrolment/request', {
        given_name: person.givenName,
        family_name: person.familyName,
        date_of_birth: person.dateOfBirth,
        email: person.email,
        terms_id: termsId!,
        agree: 'yes',
      }),
    ).toBe('/enrol/sent');

    // From the sign-in page, as a person signs in (it leaves the cookie that says this client keeps cookies).
    await page(staff, '/staff/sign-in');
    expect(await post(staff, '/api/sign-in', { user_id: 'frontdesk', password: DEMO_PASSWORD, portal: 'staff' })).toBe('/staff');
    const queue = await page(staff, '/staff/enrolment');
    // (The page's HTML has the hydration's comment markers around text.)
    const requestId = new RegExp(`href="/staff/enrolment/([^"]+)">(?:<!--[^>]*-->)*${person.fullName}<`).exec(queue)?.[1];
    expect(requestId, `${person.fullName}'s request in the queue`).toBeDefined();
    expect(await post(staff, '/api/enrolment/approve', { request_id: requestId!, link_to: 'new', email_code: 'yes' })).toMatch(
      /^\/staff\/patients\/[^/]+\/code\?emailed=1$/,
    );

    const mail = await waitForMail(server, { to: person.email, subject: 'activation code', since });
    const code = /\b([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})\b/.exec(mail.body)?.[1];
    expect(code, 'the activation code in the e-mail').toBeDefined();
    expect(await post(patient, '/api/activation/verify', { code: code!, date_of_birth: person.dateOfBirth })).toBe('/activate/account');
    expect(
      await post(patient, '/api/activation/complete', {
        user_id: person.userId,
        password: person.password,
        password_again: person.password,
        email: person.email,
      }),
    ).toBe('/home?welcome=1');
  } finally {
    await patient.dispose();
    await staff.dispose();
  }
}
