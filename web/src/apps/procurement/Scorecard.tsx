// A supplier's scorecard on its party page (the supplier 360): the health score as a gauge
// with the workspace's bands, the rates behind it as bars, and how much evidence each
// figure rests on. Computed by the server from receipts, QC reports, invoices and
// confirmations; nothing here is typed in.
import { Alert, Card, Col, Descriptions, Empty, Row, Skeleton, Statistic, Tag, Typography } from 'antd';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import * as echarts from 'echarts/core';
import { BarChart, GaugeChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { api, type Schemas } from '../../api/client';
import { formatDate } from '../../format';

echarts.use([GaugeChart, BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

type View = Schemas['ScorecardView'];

const BAND_COLOR: Record<string, string> = { good: 'green', watch: 'orange', at_risk: 'red' };

const num = (s: string | null | undefined): number | null => (s == null || s === '' ? null : Number(s));

/** The gauge and bar options for a scorecard (pure: unit-tested). */
export function chartOptions(view: View, label: (key: string) => string) {
  const s = view.scorecard;
  const alert = Number(view.alert_below) / 100;
  const good = Number(view.good_from) / 100;
  const gauge = {
    series: [
      {
        type: 'gauge',
        min: 0,
        max: 100,
        progress: { show: false },
        axisLine: { lineStyle: { width: 14, color: [[alert, '#ff4d4f'], [good, '#faad14'], [1, '#52c41a']] } },
        pointer: { width: 5 },
        detail: { valueAnimation: false, formatter: (v: number) => v.toFixed(1), fontSize: 22 },
        data: [{ value: num(s.score) ?? 0, name: label('score') }],
      },
    ],
  };
  const rates = (['on_time_rate', 'quality_rate', 'qc_pass_rate', 'acceptance_rate'] as const)
    .map((k) => ({ key: k, value: num(s[k]) }))
    .filter((r): r is { key: (typeof r)['key']; value: number } => r.value !== null);
  const bars = {
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v}%` },
    xAxis: { type: 'value', min: 0, max: 100 },
    yAxis: { type: 'category', data: rates.map((r) => label(r.key)), inverse: true },
    series: [
      {
        type: 'bar',
        data: rates.map((r) => ({
          value: r.value,
          itemStyle: { color: r.value < Number(view.alert_below) ? '#ff4d4f' : r.value < Number(view.good_from) ? '#faad14' : '#52c41a' },
        })),
        label: { show: true, position: 'right', formatter: '{c}%' },
      },
    ],
  };
  return { gauge, bars, rates: rates.length };
}

function Chart({ option, height, testId }: { option: echarts.EChartsCoreOption; height: number; testId: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current);
    chart.setOption(option);
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [option]);
  return <div ref={el} style={{ height, width: '100%' }} data-testid={testId} />;
}

export default function Scorecard({ party }: { party: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [view, setView] = useState<View | null>(null);
  const [status, setStatus] = useState<number | null>(null);

  useEffect(() => {
    let live = true;
    void api
      .GET('/api/v1/procurement/suppliers/{party}/scorecard', { params: { path: { party } } })
      .then(({ data, response }) => {
        if (!live) return;
        setView(data ?? null);
        setStatus(response.status);
      });
    return () => {
      live = false;
    };
  }, [party]);

  const charts = useMemo(() => (view ? chartOptions(view, (key) => t(`procurement.scorecard.${key}`)) : null), [view, t]);

  if (status === null) return <Skeleton active />;
  if (!view) return <Empty description={t(status === 404 ? 'procurement.scorecard.noProfile' : 'procurement.scorecard.unavailable')} />;

  const s = view.scorecard;
  const label = (key: string) => t(`procurement.scorecard.${key}`);
  const { gauge, bars, rates } = charts ?? chartOptions(view, label);
  const pct = (v: string | null | undefined) => (v == null ? t('common.none') : `${v}%`);
  const b = s.basis;

  return (
    <div data-testid="scorecard">
      <Typography.Paragraph type="secondary">
        {t('procurement.scorecard.window', { since: formatDate(lang, s.since), until: formatDate(lang, s.until) })} ·{' '}
        <Link to={`/r/supplier_profile/${view.profile}`}>{view.display_name}</Link>
        {view.shared ? <Tag style={{ marginLeft: 8 }}>{t('procurement.scorecard.shared')}</Tag> : null}
      </Typography.Paragraph>
      {s.score == null ? (
        <Alert type="info" showIcon message={t('procurement.scorecard.noEvidence')} />
      ) : (
        <Row gutter={[16, 16]}>
          <Col xs={24} md={10}>
            <Card size="small" title={label('score')} extra={s.band ? <Tag color={BAND_COLOR[s.band]} data-testid="scorecard-band">{label(`band_${s.band}`)}</Tag> : null}>
              <Chart option={gauge} height={220} testId="scorecard-gauge" />
              <Typography.Text type="secondary">
                {t('procurement.scorecard.bands', { alert: view.alert_below, good: view.good_from })} ·{' '}
                {t('procurement.scorecard.weights', {
                  on_time: view.weights.on_time,
                  quality: view.weights.quality,
                  price: view.weights.price,
                  response: view.weights.response,
                })}
              </Typography.Text>
            </Card>
          </Col>
          <Col xs={24} md={14}>
            <Card size="small" title={t('procurement.scorecard.rates')}>
              {rates ? <Chart option={bars} height={180} testId="scorecard-bars" /> : <Empty />}
            </Card>
          </Col>
        </Row>
      )}
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={12} md={6}>
          <Statistic title={label('on_time_rate')} value={pct(s.on_time_rate)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={label('quality_rate')} value={pct(s.quality_rate)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={label('price_variance')} value={pct(s.price_variance)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={label('response_hours')} value={s.response_hours ?? t('common.none')} suffix={s.response_hours ? 'h' : undefined} />
        </Col>
      </Row>
      <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginTop: 16 }} title={t('procurement.scorecard.basis')}>
        <Descriptions.Item label={t('procurement.scorecard.receiptLines')}>
          {t('procurement.scorecard.onTimeOf', { on_time: b.on_time_lines, total: b.receipt_lines })}
        </Descriptions.Item>
        <Descriptions.Item label={t('procurement.scorecard.inspections')}>
          {t('procurement.scorecard.passedOf', { passed: b.passed_inspections, total: b.inspections })}
        </Descriptions.Item>
        <Descriptions.Item label={t('procurement.scorecard.quantities')}>
          {t('procurement.scorecard.acceptedOf', { accepted: b.accepted_qty, received: b.received_qty })}
        </Descriptions.Item>
        <Descriptions.Item label={t('procurement.scorecard.invoiceLines')}>{b.invoice_lines}</Descriptions.Item>
        <Descriptions.Item label={label('last_price_variance')}>{pct(s.last_price_variance)}</Descriptions.Item>
        <Descriptions.Item label={t('procurement.scorecard.confirmations')}>{b.confirmations}</Descriptions.Item>
      </Descriptions>
    </div>
  );
}
