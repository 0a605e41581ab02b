// The results page (`/search?q=`): records and messages in two groups, best first, with the
// query's words marked in each snippet. Whatever the server returns is already limited to
// what the user may read; the page never shows a total (the server gives none).
import { MessageOutlined, FileTextOutlined } from '@ant-design/icons';
import { Alert, Button, Empty, Input, List, Segmented, Skeleton, Tag, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, type Schemas } from '../api/client';
import { formatDateTime } from '../format';
import { labelOf } from '../meta/fields';
import { useTypes } from '../meta/context';
import { hitPath, searchPath } from './query';

type Hit = Schemas['SearchHit'];
type Kind = 'all' | 'record' | 'message';

export default function SearchPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const kind = (params.get('kind') as Kind | null) ?? 'all';
  const [text, setText] = useState(q);
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  useEffect(() => setText(q), [q]);

  const fetchPage = useCallback(
    async (after?: string) => {
      setLoading(true);
      const { data, error: problem } = await api.GET('/api/v1/search', {
        params: { query: { q, limit: 20, cursor: after, kind: kind === 'all' ? undefined : kind } },
      });
      setLoading(false);
      if (data) {
        setHits((prev) => (after && prev ? [...prev, ...data.hits] : data.hits));
        setCursor(data.next_cursor ?? undefined);
        setError(null);
      } else {
        setError(problem?.detail ?? problem?.title ?? t('search.failed'));
      }
    },
    [q, kind, t],
  );

  useEffect(() => {
    setHits(null);
    setCursor(undefined);
    if (q.trim()) void fetchPage();
  }, [q, fetchPage]);

  const records = hits?.filter((h) => h.kind === 'record') ?? [];
  const messages = hits?.filter((h) => h.kind === 'message') ?? [];

  return (
    <div className="weft-page weft-search-page">
      <Typography.Title level={2}>{t('search.title')}</Typography.Title>
      <Input.Search
        value={text}
        onChange={(e) => setText(e.target.value)}
        onSearch={(v) => v.trim() && navigate(searchPath(v) + (kind === 'all' ? '' : `&kind=${kind}`))}
        placeholder={t('search.placeholder')}
        aria-label={t('search.label')}
        enterButton
        allowClear
        autoFocus={!q}
        data-testid="search-page-input"
        style={{ maxWidth: 560, marginBottom: 12 }}
      />
      <div style={{ marginBottom: 16 }}>
        <Segmented<Kind>
          value={kind}
          onChange={(k) => {
            const next = new URLSearchParams(params);
            if (k === 'all') next.delete('kind');
            else next.set('kind', k);
            setParams(next);
          }}
          options={[
            { value: 'all', label: t('search.all') },
            { value: 'record', label: t('search.records') },
            { value: 'message', label: t('search.messages') },
          ]}
        />
      </div>
      {error ? <Alert type="error" role="alert" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      {!q.trim() ? (
        <Empty description={t('search.hint')} />
      ) : hits === null ? (
        <Skeleton active />
      ) : hits.length === 0 ? (
        <Empty description={t('search.empty', { q })} data-testid="search-empty" />
      ) : (
        <>
          {records.length > 0 ? <HitGroup title={t('search.records')} icon={<FileTextOutlined />} hits={records} testid="search-records" /> : null}
          {messages.length > 0 ? <HitGroup title={t('search.messages')} icon={<MessageOutlined />} hits={messages} testid="search-messages" /> : null}
          {cursor ? (
            <Button onClick={() => void fetchPage(cursor)} loading={loading} data-testid="search-more">
              {t('search.more')}
            </Button>
          ) : null}
        </>
      )}
    </div>
  );
}

function HitGroup({ title, icon, hits, testid }: { title: string; icon: React.ReactNode; hits: Hit[]; testid: string }) {
  return (
    <section className="weft-search-group" data-testid={testid}>
      <Typography.Title level={4}>
        {icon} {title}
      </Typography.Title>
      <List itemLayout="vertical" dataSource={hits} rowKey={(h) => `${h.kind}:${h.id}`} renderItem={(hit) => <HitItem hit={hit} />} />
    </section>
  );
}

function HitItem({ hit }: { hit: Hit }) {
  const { t, i18n } = useTranslation();
  const { byName } = useTypes();
  const lang = i18n.language;
  const path = hitPath(hit);
  const typeLabel = hit.type === 'channel' ? t('search.channel') : labelOf(byName(hit.type)?.label, lang) || hit.type;
  const title = hit.kind === 'message' ? t('search.messageOn', { title: hit.title }) : hit.title;
  return (
    <List.Item className="weft-search-hit" data-testid="search-hit" data-kind={hit.kind}>
      <div className="weft-search-hit-head">
        {path ? <Link to={path}>{title}</Link> : <span>{title}</span>}
        <Tag>{typeLabel}</Tag>
        {hit.visibility ? <Tag color={hit.visibility === 'internal' ? 'gold' : 'green'}>{t(`search.${hit.visibility === 'internal' ? 'internal' : 'shared'}`)}</Tag> : null}
      </div>
      <div className="weft-search-snippet">
        {hit.snippet.map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
      </div>
      <Typography.Text type="secondary" className="weft-search-time">
        {formatDateTime(lang, hit.updated_at)}
      </Typography.Text>
    </List.Item>
  );
}
