import { useTranslation } from 'react-i18next';

export function ScorecardTabLabel() {
  const { t } = useTranslation();
  return <span data-testid="scorecard-tab">{t('procurement.scorecard.tab')}</span>;
}
