import { Alert, App, Button, Descriptions, Empty, Form, Grid, Skeleton, Tabs, Tag, Timeline, Typography } from 'antd';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router-dom';
import { api, versionOf, type RecordJson, type TimelineEntry } from '../api/client';
import { describeProcess } from './processTimeline';
import { FieldDisplay, FieldInput } from '../fields/dispatch';
import { RecordValues } from '../fields/reference';
import { clearErrorsOnChange, TransitionDialog, useProblemText, type FormApi } from './transition';
import { detailSpans } from './detailSpans';
import { PrincipalName } from '../fields/people';
import { formatDateTime } from '../format';
import { ThreadPanel } from '../collab/ThreadPanel';
import { useLive } from '../live/useLive';
import { titleOf, useTypes } from '../meta/context';
import { extensionActions, extensionTabs } from '../apps/extensions';
import { RelatedRecords, relationsTo } from './RelatedRecords';
import { labelOf, type FieldDef, type TransitionDef, type TypeDef } from '../meta/fields';

const WIDE = new Set(['long_text', 'rich_text', 'lines', 'json']);


export default function RecordPage() {
  const { type = '', id } = useParams();
  const { byName, types } = useTypes();
  const def = byName(type);
  if (!def) return types.length ? <Alert type="warning" message={type} /> : <Skeleton active />;
  return id ? <ExistingRecord key={`${type}/${id}`} def={def} id={id} /> : <NewRecord key={type} def={def} />;
}


/** Form rows for every field of a type, through the dispatcher. */
function FieldsForm({ def, form, initial }: { def: TypeDef; form: FormApi; initial?: RecordJson }) {
  const { i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <Form form={form} layout="vertical" initialValues={initial} name="record" scrollToFirstError onValuesChange={clearErrorsOnChange(form)}>
      <div className="weft-form-grid">
        {def.fields.map((f) => (
          <Form.Item
            key={f.name}
            name={f.name}
            className={WIDE.has(f.kind) ? 'weft-wide' : undefined}
            label={labelOf(f.label, lang)}
            required={f.required}
            tooltip={f.help ? labelOf(f.help, lang) : undefined}
            // Booleans need a value, but `false` is one: the server judges the rest.
            rules={f.required && f.kind !== 'boolean' && !f.readOnly ? [{ required: true, message: '' }] : undefined}
            validateTrigger={[]}
          >
            <FieldInput field={f} />
          </Form.Item>
        ))}
      </div>
    </Form>
  );
}

/** Only the fields whose value changed, and never a computed one. */
function changed(def: TypeDef, before: RecordJson, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of def.fields) {
    if (f.readOnly || !(f.name in values)) continue;
    const v = values[f.name] === undefined ? null : values[f.name];
    if (JSON.stringify(v) !== JSON.stringify(before[f.name] ?? null)) out[f.name] = v;
  }
  return out;
}

function NewRecord({ def }: { def: TypeDef }) {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problemText = useProblemText();

  const save = async () => {
    setBusy(true);
    setError(null);
    const values = form.getFieldsValue(true) as Record<string, unknown>;
    const body: Record<string, unknown> = {};
    for (const f of def.fields) if (!f.readOnly && values[f.name] !== undefined && values[f.name] !== null) body[f.name] = values[f.name];
    const { data, error: problem } = await api.POST('/api/v1/records/{type}', {
      params: { path: { type: def.name }, header: { 'Idempotency-Key': crypto.randomUUID() } },
      body,
    });
    setBusy(false);
    if (data) {
      void message.success(t('record.created'));
      navigate(`/r/${def.name}/${String((data as RecordJson).id)}`, { replace: true });
    } else if (problem) setError(problemText(problem, form, def.fields));
  };

  return (
    <div className="weft-page">
      <div className="weft-record-head">
        <Typography.Title level={2}>{t('record.create', { type: labelOf(def.label, i18n.language) })}</Typography.Title>
      </div>
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <FieldsForm def={def} form={form} />
      <div className="weft-actions" style={{ marginLeft: 0 }}>
        <Button type="primary" onClick={() => void save()} loading={busy}>
          {t('record.save')}
        </Button>
        <Button onClick={() => navigate(`/r/${def.name}`)}>{t('record.cancel')}</Button>
      </div>
    </div>
  );
}

interface Loaded {
  record: RecordJson;
  version: number;
}

function ExistingRecord({ def, id }: { def: TypeDef; id: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const { byName, types } = useTypes();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<{ current?: number; yours: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [timelineKey, setTimelineKey] = useState(0);
  const [transition, setTransition] = useState<TransitionDef | null>(null);
  const [form] = Form.useForm();
  const problemText = useProblemText();
  const phone = Grid.useBreakpoint().md === false;
  const [threadTick, setThreadTick] = useState(0);
  // `?tab=timeline` (a search hit on a message) opens the record at its thread.
  const [tab, setTab] = useState(() => new URLSearchParams(window.location.search).get('tab') ?? 'details');

  const load = useCallback(async () => {
    const { data, error: problem, response } = await api.GET('/api/v1/records/{type}/{id}', { params: { path: { type: def.name, id } } });
    if (data) {
      const record = data as RecordJson;
      setLoaded({ record, version: versionOf(response.headers.get('etag')) ?? record.version });
      setLoadError(null);
    } else setLoadError(problem?.status === 404 ? t('record.notFound') : (problem?.detail ?? 'error'));
  }, [def.name, id, t]);

  useEffect(() => {
    void load();
  }, [load]);

  // Live: messages refresh the thread; changes to the record reload it (unless being edited,
  // where a save would then meet the version conflict and say so) and its history.
  const editingRef = useRef(editing);
  editingRef.current = editing;
  useLive(`record:${def.name}/${id}`, (s) => {
    const message = s.kind === 'event' && s.event.startsWith('message.');
    if (s.kind === 'resync' || message) setThreadTick((n) => n + 1);
    if (s.kind === 'resync' || !message) {
      if (!editingRef.current) void load();
      setTimelineKey((k) => k + 1);
    }
  });

  const reload = async () => {
    setConflict(null);
    setError(null);
    setEditing(false);
    await load();
    setTimelineKey((k) => k + 1);
  };

  const save = async () => {
    if (!loaded) return;
    setBusy(true);
    setError(null);
    const body = changed(def, loaded.record, form.getFieldsValue(true) as Record<string, unknown>);
    const { data, error: problem, response } = await api.PATCH('/api/v1/records/{type}/{id}', {
      params: { path: { type: def.name, id }, header: { 'If-Match': `"${loaded.version}"` } },
      body,
    });
    setBusy(false);
    if (data) {
      const record = data as RecordJson;
      setLoaded({ record, version: versionOf(response.headers.get('etag')) ?? record.version });
      setEditing(false);
      setTimelineKey((k) => k + 1);
      void message.success(t('record.saved'));
    } else if (problem?.status === 412) {
      setConflict({ current: problem.current_version ?? undefined, yours: loaded.version });
    } else if (problem) setError(problemText(problem, form, def.fields));
  };

  const state = loaded?.record.state ?? undefined;
  const stateDef = def.states.find((s) => s.name === state);
  const actions = useMemo(
    () => def.transitions.filter((x) => x.allowed && state !== undefined && x.from.includes(state)),
    [def, state],
  );
  const spans = useMemo(() => detailSpans(def.fields.map((f) => f.kind)), [def]);

  if (loadError) return <Alert type="warning" showIcon message={loadError} />;
  if (!loaded) return <Skeleton active paragraph={{ rows: 8 }} />;
  const record = loaded.record;
  const editableHere = (f: FieldDef) => !stateDef?.editable || stateDef.editable.includes(f.name);

  return (
    <div className="weft-page">
      <div className="weft-record-head">
        <Typography.Title level={2}>{titleOf(def, record)}</Typography.Title>
        {/* The number beside a title, unless the title fell back to it (a draft not named yet). */}
        {typeof record.number === 'string' && def.titleField && titleOf(def, record) !== record.number ? (
          <Typography.Text type="secondary">{record.number}</Typography.Text>
        ) : null}
        {stateDef ? <Tag color="blue" data-testid="record-state">{labelOf(stateDef.label, lang)}</Tag> : null}
        <div className="weft-actions">
          {editing ? (
            <>
              <Button type="primary" onClick={() => void save()} loading={busy}>
                {t('record.save')}
              </Button>
              <Button onClick={() => { setEditing(false); setError(null); form.resetFields(); }}>{t('record.cancel')}</Button>
            </>
          ) : (
            <>
              {actions.map((a) => (
                <Button key={a.name} onClick={() => setTransition(a)} data-transition={a.name}>
                  {labelOf(a.label, lang)}
                </Button>
              ))}
              {extensionActions({ def, record, byName })}
              {def.permissions.update && !stateDef?.final ? (
                <Button type="primary" onClick={() => { form.setFieldsValue(record); setEditing(true); }}>
                  {t('record.edit')}
                </Button>
              ) : null}
            </>
          )}
        </div>
      </div>
      {conflict ? (
        <Alert
          role="alert"
          type="warning"
          showIcon
          message={t('record.conflict', { version: conflict.current ?? '?', yours: conflict.yours })}
          action={<Button onClick={() => void reload()}>{t('record.reload')}</Button>}
          style={{ marginBottom: 16 }}
        />
      ) : null}
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          {
            key: 'details',
            label: t('record.details'),
            children: editing ? (
              <FieldsForm def={{ ...def, fields: def.fields.map((f) => (editableHere(f) && f.name in record ? f : { ...f, readOnly: true })) }} form={form} initial={record} />
            ) : (
              <RecordValues.Provider value={record}>
                <Descriptions
                  bordered
                  size="small"
                  column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 2, xxl: 2 }}
                  className="weft-details"
                  styles={{ label: { width: phone ? 96 : 140 } }}
                >
                  {def.fields.map((f, i) => (
                    <Descriptions.Item key={f.name} label={labelOf(f.label, lang)} span={spans[i]}>
                      <span data-field={f.name}>
                        {/* A field the server left out is one the user's roles hide. */}
                        <FieldDisplay field={f} value={record[f.name]} hidden={!(f.name in record)} />
                      </span>
                    </Descriptions.Item>
                  ))}
                </Descriptions>
              </RecordValues.Provider>
            ),
          },
          {
            key: 'timeline',
            label: t('record.timeline'),
            children: (
              <div className="weft-activity">
                <ThreadPanel type={def.name} id={id} version={threadTick} />
                <div className="weft-history">
                  <Typography.Title level={4}>{t('record.history')}</Typography.Title>
                  <RecordTimeline key={timelineKey} def={def} id={id} />
                </div>
              </div>
            ),
          },
          ...extensionTabs({ def, record, byName }),
          ...(relationsTo(def.name, types).length
            ? [{ key: 'related', label: t('related.tab'), children: <RelatedRecords def={def} id={id} /> }]
            : []),
        ]}
      />
      {transition ? (
        <TransitionDialog
          def={def}
          id={id}
          version={loaded.version}
          transition={transition}
          onClose={() => setTransition(null)}
          onDone={(r, v) => {
            setTransition(null);
            setLoaded({ record: r, version: v });
            setTimelineKey((k) => k + 1);
            void message.success(t('record.transitionDone', { action: labelOf(transition.label, lang) }));
          }}
          onConflict={(current) => {
            setTransition(null);
            setConflict({ current, yours: loaded.version });
          }}
        />
      ) : null}
    </div>
  );
}

function RecordTimeline({ def, id }: { def: TypeDef; id: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [entries, setEntries] = useState<TimelineEntry[] | null>(null);
  useEffect(() => {
    void api.GET('/api/v1/records/{type}/{id}/timeline', { params: { path: { type: def.name, id } } }).then(({ data }) => setEntries(data ?? []));
  }, [def.name, id]);
  if (!entries) return <Skeleton active />;
  if (entries.length === 0) return <Empty description={t('timeline.empty')} />;

  const fieldLabel = (name: string) =>
    name === 'state' ? t('record.state') : labelOf(def.fields.find((f) => f.name === name)?.label, lang) || name;
  const what = (e: TimelineEntry) => {
    const step = describeProcess(e, t);
    if (step) return step.title;
    if (e.command === 'create') return t('timeline.created');
    if (e.command === 'update') return t('timeline.updated');
    if (e.command === 'delete') return t('timeline.deleted');
    if (e.command === 'restore') return t('timeline.restored');
    if (e.command.startsWith('transition:')) {
      const name = e.command.slice('transition:'.length);
      const tr = def.transitions.find((x) => x.name === name);
      return t('timeline.transitioned', { name: tr ? labelOf(tr.label, lang) : name });
    }
    return t('timeline.other', { command: e.command });
  };
  // In the declaration's order, state first; computed fields follow from the others.
  const order = (name: string) => (name === 'state' ? -1 : def.fields.findIndex((f) => f.name === name));
  const changesOf = (e: TimelineEntry): { field: string; from?: unknown; to?: unknown }[] => {
    const c = e.changes as unknown;
    const list = (Array.isArray(c) ? c : ((c as { changes?: unknown[] })?.changes ?? [])) as { field: string; from?: unknown; to?: unknown }[];
    return list
      .filter((x) => def.fields.find((f) => f.name === x.field)?.kind !== 'computed')
      .sort((a, b) => order(a.field) - order(b.field));
  };
  // A transition's inputs (a reason for rejecting…), kept with its history entry.
  const inputsOf = (e: TimelineEntry): [FieldDef, unknown][] => {
    const inputs = (e.changes as { inputs?: Record<string, unknown> } | null)?.inputs;
    const tr = def.transitions.find((x) => `transition:${x.name}` === e.command);
    if (!inputs || !tr) return [];
    return tr.inputs.filter((f) => inputs[f.name] !== undefined && inputs[f.name] !== null).map((f) => [f, inputs[f.name]]);
  };
  const show = (name: string, v: unknown) => {
    const f = def.fields.find((x) => x.name === name);
    if (name === 'state') return labelOf(def.states.find((s) => s.name === v)?.label, lang) || String(v ?? '—');
    return f ? <FieldDisplay field={f} value={v} /> : String(v ?? '—');
  };

  return (
    <Timeline
      className="weft-timeline"
      items={[...entries].reverse().map((e, i) => ({
        key: `${e.kind}-${e.version ?? e.command}-${e.at}-${i}`,
        color: e.kind === 'process' ? 'gray' : undefined,
        children: (
          <div data-testid={e.kind === 'process' ? 'timeline-process' : 'timeline-history'}>
            <strong>{what(e)}</strong>{' '}
            <Typography.Text type="secondary">
              {formatDateTime(lang, e.at)}
              {e.version != null ? <> · {t('timeline.version', { version: e.version })}</> : null}
              {e.actor === 'system' && e.kind === 'process' ? null : (
                <>
                  {' · '}
                  {e.actor_name ?? (/^[0-9a-f-]{36}/.test(e.actor) ? <PrincipalName id={e.actor.slice(0, 36)} /> : e.actor)}
                </>
              )}
            </Typography.Text>
            <ul className="weft-timeline-changes">
              {(describeProcess(e, t)?.details ?? []).map((d, k) => (
                <li key={`process-${k}`}>{d}</li>
              ))}
              {inputsOf(e).map(([f, v]) => (
                <li key={`input-${f.name}`}>
                  {labelOf(f.label, lang)}: <FieldDisplay field={f} value={v} />
                </li>
              ))}
              {changesOf(e).map((c, i) => (
                <li key={i}>
                  {fieldLabel(c.field)}: {e.command === 'create' ? null : <>{show(c.field, c.from)} → </>}
                  {show(c.field, c.to)}
                </li>
              ))}
            </ul>
          </div>
        ),
      }))}
    />
  );
}
