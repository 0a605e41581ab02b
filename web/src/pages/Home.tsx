import { Card, Empty, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useSession } from '../auth/session';
import { useTypes } from '../meta/context';
import { labelOf } from '../meta/fields';

export default function Home() {
  const { t, i18n } = useTranslation();
  const { principal, isGuest } = useSession();
  const { types } = useTypes();
  const readable = types.filter((x) => x.permissions.read);
  return (
    <div className="weft-page">
      <Typography.Title level={2}>{t('home.welcome', { name: principal?.display_name ?? '' })}</Typography.Title>
      <Typography.Paragraph type="secondary">{isGuest ? t('home.portalIntro') : t('home.intro')}</Typography.Paragraph>
      <Typography.Title level={4}>{t('home.types')}</Typography.Title>
      {readable.length === 0 ? (
        <Empty description={t('home.empty')} />
      ) : (
        <div className="weft-cards">
          {readable.map((x) => (
            <Link key={x.name} to={`/r/${x.name}`} className="weft-card-link">
              <Card size="small" hoverable>
                <Card.Meta title={labelOf(x.pluralLabel, i18n.language)} description={x.name} />
              </Card>
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}
