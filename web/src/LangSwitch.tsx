import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { changeLang, type Lang } from './i18n';

export function LangSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Segmented
      aria-label={t('lang.switch')}
      size="small"
      value={i18n.language as Lang}
      onChange={(v) => changeLang(v as Lang)}
      options={[
        { value: 'zh', label: <span data-lang="zh">{t('lang.zh')}</span> },
        { value: 'en', label: <span data-lang="en">{t('lang.en')}</span> },
      ]}
    />
  );
}
