// Delivery outward, the client's part: one's e-mail settings and the IM robots' form.
// Pure functions (unit-tested): form values ⇄ the API's bodies, and problems at fields.
import type { Problem, Schemas } from '../api/client';
import type { FieldError } from '../api/problem';

type Message = (e: FieldError) => string;
const reason: Message = (e) => e.reason;

export type Settings = Schemas['DeliverySettings'];
export type Robot = Schemas['RobotView'];
export type NewRobot = Schemas['NewRobot'];
export type RobotPatch = Schemas['RobotPatch'];
export type DeadLetter = Schemas['DeadLetterView'];

/** The inbox kinds mail can follow, and the choices for each (the server's lists). */
export const EMAIL_KINDS = ['todo', 'mention', 'update', 'alert'] as const;
export const MODES = ['immediate', 'digest', 'off'] as const;
export const ROBOT_KINDS = ['wecom', 'dingtalk', 'feishu', 'slack'] as const;
export const ROBOT_EVENTS = ['message.posted', 'record.created', 'record.transitioned'] as const;
export type RobotKind = (typeof ROBOT_KINDS)[number];

/** The kinds the settings page offers: those the server's settings hold (so a kind it adds
 * shows up), the known ones first in their order. */
export function kindsOf(settings: Settings): string[] {
  const known = EMAIL_KINDS as readonly string[];
  const held = Object.keys(settings.email);
  return [...known.filter((k) => held.includes(k)), ...held.filter((k) => !known.includes(k)).sort()];
}

/** Only DingTalk and Feishu robots sign their calls with a secret. */
export function signs(kind: string | undefined): boolean {
  return kind === 'dingtalk' || kind === 'feishu';
}

/** The change to send: the kinds whose mode differs, and the interval when it does. */
export function settingsChange(before: Settings, after: { email: Record<string, string>; digest_minutes: number }) {
  const email: Record<string, string> = {};
  for (const [kind, mode] of Object.entries(after.email)) if (mode && before.email[kind] !== mode) email[kind] = mode;
  return {
    ...(Object.keys(email).length ? { email } : {}),
    ...(after.digest_minutes !== before.digest_minutes ? { digest_minutes: after.digest_minutes } : {}),
  };
}

/** The robot dialog's values. `secret` empty keeps (editing) or sets none (new);
 * `removeSecret` clears a robot's secret. */
export interface RobotForm {
  name: string;
  kind: RobotKind;
  url?: string;
  secret?: string;
  removeSecret?: boolean;
  target: 'type' | 'channel';
  type?: string;
  channel?: string;
  events: string[];
  include_internal: boolean;
  language: 'zh' | 'en';
}

/** The form for a robot being edited (its webhook and secret are never shown back: the
 * fields start empty and mean "keep"). */
export function robotForm(robot: Robot): RobotForm {
  return {
    name: robot.name,
    kind: robot.kind as RobotKind,
    target: robot.channel ? 'channel' : 'type',
    type: robot.type ?? undefined,
    channel: robot.channel ?? undefined,
    events: robot.events,
    include_internal: robot.include_internal,
    language: robot.language === 'en' ? 'en' : 'zh',
  };
}

/** A new robot's body. */
export function newRobotBody(v: RobotForm): NewRobot {
  return {
    name: v.name.trim(),
    kind: v.kind,
    url: (v.url ?? '').trim(),
    ...(signs(v.kind) && v.secret?.trim() ? { secret: v.secret.trim() } : {}),
    ...(v.target === 'channel' ? { channel: v.channel ?? null } : { type: v.type ?? null }),
    events: v.target === 'channel' ? v.events.filter((e) => e === 'message.posted') : v.events,
    include_internal: v.include_internal,
    language: v.language,
  };
}

/** An edited robot's body: only what changed; an empty webhook or secret keeps it. */
export function robotPatch(before: Robot, v: RobotForm): RobotPatch {
  const patch: RobotPatch = {};
  if (v.name.trim() !== before.name) patch.name = v.name.trim();
  if (v.url?.trim()) patch.url = v.url.trim();
  if (v.removeSecret) patch.secret = null;
  else if (v.secret?.trim()) patch.secret = v.secret.trim();
  const events = [...v.events].sort();
  if (JSON.stringify(events) !== JSON.stringify([...before.events].sort())) patch.events = events;
  if (v.include_internal !== before.include_internal) patch.include_internal = v.include_internal;
  if (v.language !== before.language) patch.language = v.language;
  return patch;
}

/** A 422's field errors by the robot form's names (`/events/1` → events, `/channel` and
 * `/type` → the target's picker), the rest as text. */
export function robotProblems(problem: Problem, target: 'type' | 'channel', message: Message = reason) {
  const fields = new Map<string, string[]>();
  const other: string[] = [];
  const known = ['name', 'kind', 'url', 'secret', 'channel', 'type', 'events', 'include_internal', 'language'];
  for (const e of problem.errors ?? []) {
    let name = e.pointer.split('/')[1] ?? '';
    if (!known.includes(name)) {
      other.push(e.pointer ? `${e.pointer}: ${message(e)}` : message(e));
      continue;
    }
    if (name === 'channel' || name === 'type') name = target;
    fields.set(name, [...(fields.get(name) ?? []), message(e)]);
  }
  return { fields: [...fields].map(([name, errors]) => ({ name, errors })), other };
}

/** A 422 on the settings by the settings form's paths: `/email/mention` → email.mention
 * when the form shows that kind (`kinds`); the rest as text. */
export function settingsProblems(problem: Problem, kinds: string[], message: Message = reason) {
  const fields: { name: string[]; errors: string[] }[] = [];
  const other: string[] = [];
  for (const e of problem.errors ?? []) {
    const [, head, kind] = e.pointer.split('/');
    if (head === 'email' && kinds.includes(kind)) fields.push({ name: ['email', kind], errors: [message(e)] });
    else if (head === 'digest_minutes') fields.push({ name: ['digest_minutes'], errors: [message(e)] });
    else other.push(e.pointer ? `${e.pointer}: ${message(e)}` : message(e));
  }
  return { fields, other };
}
