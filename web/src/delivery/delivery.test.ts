import { describe, expect, it } from 'vitest';
import type { Problem } from '../api/client';
import { kindsOf, newRobotBody, robotForm, robotPatch, robotProblems, settingsChange, settingsProblems, signs, type Robot, type RobotForm } from './delivery';

const robot: Robot = {
  id: 'r1',
  name: 'ops',
  kind: 'dingtalk',
  endpoint: 'https://oapi.dingtalk.com',
  has_secret: true,
  type: 'purchase_order',
  events: ['record.created', 'record.transitioned'],
  include_internal: false,
  language: 'zh',
  created_at: '2026-12-01T00:00:00Z',
  created_by: 'admin',
};

const problem = (errors: { pointer: string; reason: string; code?: string }[]) =>
  ({ type: 'about:blank', title: 'invalid', status: 422, code: 'validation', errors }) as unknown as Problem;

describe('notification settings', () => {
  it('send only what changed', () => {
    const before = { email: { todo: 'immediate', mention: 'immediate', update: 'digest', alert: 'immediate' }, digest_minutes: 60 };
    expect(settingsChange(before, { email: { ...before.email }, digest_minutes: 60 })).toEqual({});
    expect(settingsChange(before, { email: { ...before.email, update: 'off' }, digest_minutes: 30 })).toEqual({ email: { update: 'off' }, digest_minutes: 30 });
  });

  it('offer the kinds the server holds, the known ones first', () => {
    const email = { update: 'digest', alert: 'off', todo: 'immediate', mention: 'immediate' };
    expect(kindsOf({ email, digest_minutes: 60 })).toEqual(['todo', 'mention', 'update', 'alert']);
    expect(kindsOf({ email: { ...email, reminder: 'off' }, digest_minutes: 60 })).toEqual(['todo', 'mention', 'update', 'alert', 'reminder']);
  });

  it('put problems at the kind they name', () => {
    const { fields, other } = settingsProblems(
      problem([
        { pointer: '/email/mention', reason: 'one of immediate, digest, off' },
        { pointer: '/digest_minutes', reason: '5 to 1440 minutes' },
        { pointer: '/email/gossip', reason: 'not an inbox kind' },
      ]),
      ['todo', 'mention', 'update', 'alert'],
    );
    expect(fields).toEqual([
      { name: ['email', 'mention'], errors: ['one of immediate, digest, off'] },
      { name: ['digest_minutes'], errors: ['5 to 1440 minutes'] },
    ]);
    expect(other).toEqual(['/email/gossip: not an inbox kind']);
  });
});

describe('the robot form', () => {
  const form: RobotForm = {
    name: ' Orders ',
    kind: 'wecom',
    url: ' https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k ',
    secret: 'ignored',
    target: 'type',
    type: 'purchase_order',
    channel: 'c1',
    events: ['record.created'],
    include_internal: false,
    language: 'zh',
  };

  it('makes a new robot\'s body: a secret only for kinds that sign, one target', () => {
    expect(signs('dingtalk') && signs('feishu') && !signs('wecom') && !signs('slack')).toBe(true);
    expect(newRobotBody(form)).toEqual({
      name: 'Orders',
      kind: 'wecom',
      url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
      type: 'purchase_order',
      events: ['record.created'],
      include_internal: false,
      language: 'zh',
    });
    const channel = newRobotBody({ ...form, kind: 'feishu', target: 'channel', events: ['message.posted', 'record.created'] });
    expect(channel).toMatchObject({ secret: 'ignored', channel: 'c1', events: ['message.posted'] });
    expect('type' in channel).toBe(false);
  });

  it('edits only what changed; empty webhook and secret keep theirs', () => {
    const start = robotForm(robot);
    expect(start).toMatchObject({ target: 'type', type: 'purchase_order', kind: 'dingtalk' });
    expect(start.url).toBeUndefined();
    expect(robotPatch(robot, start)).toEqual({});
    expect(robotPatch(robot, { ...start, events: ['record.transitioned', 'record.created'] })).toEqual({});
    expect(robotPatch(robot, { ...start, name: 'ops 2', url: 'https://x.test/h', secret: 'SEC2', language: 'en' })).toEqual({
      name: 'ops 2',
      url: 'https://x.test/h',
      secret: 'SEC2',
      language: 'en',
    });
    expect(robotPatch(robot, { ...start, secret: 'SEC2', removeSecret: true, include_internal: true, events: ['record.created'] })).toEqual({
      secret: null,
      include_internal: true,
      events: ['record.created'],
    });
  });

  it('puts problems at the form\'s fields, the target\'s at its picker', () => {
    const { fields, other } = robotProblems(
      problem([
        { pointer: '/url', reason: 'an http or https URL with a host' },
        { pointer: '/events/0', reason: 'one of …' },
        { pointer: '/events/1', reason: 'a channel has only messages' },
        { pointer: '/channel', reason: 'no such channel' },
        { pointer: '', reason: 'something else' },
      ]),
      'channel',
      (e) => `!${e.reason}`,
    );
    expect(fields).toEqual([
      { name: 'url', errors: ['!an http or https URL with a host'] },
      { name: 'events', errors: ['!one of …', '!a channel has only messages'] },
      { name: 'channel', errors: ['!no such channel'] },
    ]);
    expect(other).toEqual(['!something else']);
    expect(robotProblems(problem([{ pointer: '/type', reason: 'no type' }]), 'type').fields).toEqual([{ name: 'type', errors: ['no type'] }]);
  });
});
