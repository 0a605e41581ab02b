// The list at phone width: a card per record instead of a table row, so nothing scrolls
// sideways. Title (and number), state, and the fields `cardFields` picks from the same
// metadata the table uses. The title is the card's link (fields may hold links of their
// own, and links do not nest); a tap anywhere else on the card follows it too.
import { Empty, Skeleton } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import type { RecordJson } from '../api/client';
import { FieldDisplay } from '../fields/dispatch';
import { formatDateTime } from '../format';
import { titleOf } from '../meta/context';
import { labelOf, type FieldDef, type TypeDef } from '../meta/fields';

interface Props {
  def: TypeDef;
  rows: RecordJson[];
  fields: FieldDef[];
  loading: boolean;
}

export default function RecordCards({ def, rows, fields, loading }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  if (!rows.length) return loading ? <Skeleton active /> : <Empty description={t('list.empty')} image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  const stateLabel = (name: string) => labelOf(def.states.find((s) => s.name === name)?.label, lang) || name;
  return (
    <ul className="weft-record-cards" data-testid="record-cards" aria-busy={loading || undefined}>
      {rows.map((r) => (
        <li key={r.id}>
          <div
            className="weft-record-card"
            data-testid="record-card"
            data-record={r.id}
            onClick={(e) => {
              if (!(e.target as HTMLElement).closest('a')) navigate(`/r/${def.name}/${r.id}`);
            }}
          >
            <div className="weft-record-card-head">
              <Link to={`/r/${def.name}/${r.id}`} className="weft-record-card-title">
                {titleOf(def, r)}
              </Link>
              {typeof r.state === 'string' && r.state ? <span className="weft-state">{stateLabel(r.state)}</span> : null}
            </div>
            {def.titleField && typeof r.number === 'string' && r.number ? <div className="weft-record-card-number">{r.number}</div> : null}
            {fields.length ? (
              <dl className="weft-record-card-fields">
                {fields.map((f) => (
                  <div key={f.name}>
                    <dt>{labelOf(f.label, lang)}</dt>
                    <dd>
                      <FieldDisplay field={f} value={r[f.name]} hidden={!(f.name in r)} />
                    </dd>
                  </div>
                ))}
              </dl>
            ) : null}
            <div className="weft-record-card-updated">
              {t('list.updated')} {formatDateTime(lang, r.updated_at as string)}
            </div>
          </div>
        </li>
      ))}
    </ul>
  );
}
