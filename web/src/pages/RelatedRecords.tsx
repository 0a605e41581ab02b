// The records that point at this one (a supplier's orders, invoices and payables; an
// order's receipts): for every readable type with a reference (or party) field targeting
// this record's type, the latest few and how many there are. Built from the metadata, so
// a newly declared type that references another shows up here without front-end code; the
// server's list applies the reader's access, so counts are what the reader may see.
import { Card, Empty, List, Skeleton, Tag, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, type RecordJson } from '../api/client';
import { feelString } from '../feel/filter';
import { titleOf, useTypes } from '../meta/context';
import { labelOf, type FieldDef, type TypeDef } from '../meta/fields';
import { formatDate } from '../format';

const SHOWN = 5;

export interface Relation {
  type: TypeDef;
  field: FieldDef;
}

/** The (type, field) pairs that reference records of `target`, readable types only. */
export function relationsTo(target: string, types: TypeDef[]): Relation[] {
  const out: Relation[] = [];
  for (const type of types) {
    if (!type.permissions.read) continue;
    for (const field of type.fields) {
      const points = (field.kind === 'reference' && field.target === target) || (target === 'party' && field.kind === 'party');
      if (points && !field.multiple) out.push({ type, field });
    }
  }
  return out;
}

interface Loaded {
  relation: Relation;
  items: RecordJson[];
  count: number | null;
}

export function RelatedRecords({ def, id }: { def: TypeDef; id: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { types } = useTypes();
  const relations = useMemo(() => relationsTo(def.name, types), [def.name, types]);
  const [loaded, setLoaded] = useState<Loaded[] | null>(null);

  useEffect(() => {
    let live = true;
    void Promise.all(
      relations.map(async (relation) => {
        const { data } = await api.GET('/api/v1/records/{type}', {
          params: {
            path: { type: relation.type.name },
            query: { filter: `${relation.field.name} = ${feelString(id)}`, sort: '-created_at', limit: SHOWN, count: true },
          },
        });
        return { relation, items: (data?.items ?? []) as RecordJson[], count: data?.count ?? null };
      }),
    ).then((all) => live && setLoaded(all.filter((l) => l.items.length > 0)));
    return () => {
      live = false;
    };
  }, [relations, id]);

  if (!loaded) return <Skeleton active />;
  if (loaded.length === 0) return <Empty description={t('related.none')} />;
  return (
    <div className="weft-related" data-testid="related">
      {loaded.map(({ relation, items, count }) => {
        const { type, field } = relation;
        const several = type.fields.filter((f) => f.kind === field.kind && (f.kind === 'party' || f.target === field.target)).length > 1;
        return (
          <Card
            key={`${type.name}.${field.name}`}
            size="small"
            data-related={type.name}
            title={
              <>
                {labelOf(type.pluralLabel, lang) || type.name}
                {several ? <Typography.Text type="secondary"> · {labelOf(field.label, lang)}</Typography.Text> : null}
              </>
            }
            extra={count != null ? <Typography.Text type="secondary">{t('related.count', { shown: items.length, count })}</Typography.Text> : null}
            style={{ marginBottom: 12 }}
          >
            <List
              size="small"
              dataSource={items}
              renderItem={(r) => {
                const state = type.states.find((s) => s.name === r.state);
                return (
                  <List.Item>
                    <Link to={`/r/${type.name}/${r.id}`}>{titleOf(type, r)}</Link>
                    <span>
                      {typeof r.number === 'string' && type.titleField ? <Typography.Text type="secondary">{r.number} </Typography.Text> : null}
                      {state ? <Tag>{labelOf(state.label, lang)}</Tag> : null}
                      {typeof r.created_at === 'string' ? <Typography.Text type="secondary">{formatDate(lang, r.created_at.slice(0, 10))}</Typography.Text> : null}
                    </span>
                  </List.Item>
                );
              }}
            />
          </Card>
        );
      })}
    </div>
  );
}
