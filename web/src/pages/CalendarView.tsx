// The calendar view of a type with a date field: a month, each day listing the records
// whose date falls on it. The field and the month travel in the address
// (`?date=due&month=2026-03`), so a saved view keeps and restores them. On a phone a day's
// cell has no room for titles: it shows how many records fall on it, and the month's
// records follow the grid as an agenda, day by day.
import { Alert, Calendar, Grid, Select } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type RecordJson } from '../api/client';
import { buildFilter, clause } from '../feel/filter';
import { useTranslation } from 'react-i18next';
import { formatDate } from '../format';
import { titleOf } from '../meta/context';
import { labelOf, type FieldDef, type TypeDef } from '../meta/fields';

interface Props {
  def: TypeDef;
  field: FieldDef;
  /** Every date field the calendar may go by. */
  fields: FieldDef[];
  onField: (name: string) => void;
  /** The list's applied filter, narrowing the calendar too. */
  filter?: string;
  month: Dayjs;
  onMonth: (month: Dayjs) => void;
}

export default function CalendarView({ def, field, fields, onField, filter, month, onMonth }: Props) {
  const { t, i18n } = useTranslation();
  const [rows, setRows] = useState<RecordJson[]>([]);
  const [error, setError] = useState<string | null>(null);
  const phone = Grid.useBreakpoint().md === false;

  useEffect(() => {
    let live = true;
    // The weeks the month grid shows, a little beyond the month on both sides.
    const from = month.startOf('month').subtract(7, 'day');
    const to = month.endOf('month').add(14, 'day');
    const range =
      field.kind === 'datetime'
        ? clause(field.name, 'datetime', { op: 'range', from: from.toISOString(), to: to.toISOString() })
        : clause(field.name, 'date', { op: 'range', from: from.format('YYYY-MM-DD'), to: to.format('YYYY-MM-DD') });
    void api
      .GET('/api/v1/records/{type}', {
        params: { path: { type: def.name }, query: { filter: buildFilter([filter, range]), limit: 500 } },
      })
      .then(({ data, error: problem }) => {
        if (!live) return;
        setRows((data?.items as RecordJson[]) ?? []);
        setError(data ? null : (problem?.detail ?? problem?.title ?? 'error'));
      });
    return () => {
      live = false;
    };
  }, [def.name, field, filter, month]);

  const dayOf = (r: RecordJson) => {
    const v = r[field.name];
    if (typeof v !== 'string') return null;
    return field.kind === 'datetime' ? dayjs(v).format('YYYY-MM-DD') : v;
  };

  return (
    <div className="weft-calendar" data-testid="calendar">
      {error ? <Alert type="error" showIcon message={error} /> : null}
      {fields.length > 1 ? (
        <label className="weft-calendar-field">
          {t('list.calendarBy')}
          <Select
            size="small"
            value={field.name}
            onChange={onField}
            aria-label={t('list.calendarBy')}
            data-testid="calendar-field"
            options={fields.map((f) => ({ value: f.name, label: labelOf(f.label, i18n.language) }))}
            style={{ minWidth: 140 }}
          />
        </label>
      ) : null}
      <Calendar
        value={month}
        onPanelChange={(d) => onMonth(d)}
        onSelect={(d, info) => info.source !== 'date' && onMonth(d)}
        cellRender={(d, info) => {
          if (info.type !== 'date') return info.originNode;
          const day = d.format('YYYY-MM-DD');
          const items = rows.filter((r) => dayOf(r) === day);
          if (phone)
            return items.length ? (
              <span className="weft-calendar-count" aria-label={t('list.calendarCount', { count: items.length })}>
                {items.length}
              </span>
            ) : null;
          return (
            <ul className="weft-calendar-items">
              {items.map((r) => (
                <li key={r.id}>
                  <Link to={`/r/${def.name}/${r.id}`}>{titleOf(def, r)}</Link>
                </li>
              ))}
            </ul>
          );
        }}
      />
      {phone ? <Agenda def={def} rows={rows.filter((r) => dayOf(r)?.startsWith(month.format('YYYY-MM')))} dayOf={dayOf} /> : null}
    </div>
  );
}

/** The month's records by day, for a phone. */
function Agenda({ def, rows, dayOf }: { def: TypeDef; rows: RecordJson[]; dayOf: (r: RecordJson) => string | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const days = new Map<string, RecordJson[]>();
  for (const r of rows) {
    const day = dayOf(r);
    if (day) days.set(day, [...(days.get(day) ?? []), r]);
  }
  const stateLabel = (name: string) => labelOf(def.states.find((s) => s.name === name)?.label, lang) || name;
  if (!days.size) return <p className="weft-empty weft-calendar-agenda">{t('list.calendarEmpty')}</p>;
  return (
    <div className="weft-calendar-agenda" data-testid="calendar-agenda">
      {[...days.keys()].sort().map((day) => (
        <section key={day} data-day={day}>
          <h4>{formatDate(lang, day)}</h4>
          <ul>
            {days.get(day)!.map((r) => (
              <li key={r.id}>
                <Link to={`/r/${def.name}/${r.id}`}>{titleOf(def, r)}</Link>
                {typeof r.state === 'string' && r.state ? <span className="weft-state">{stateLabel(r.state)}</span> : null}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
