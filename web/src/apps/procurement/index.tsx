// The procurement app's screens on record pages: an approved requisition is ordered from
// its page; a supplier party shows its scorecard (for members who may read supplier
// profiles; the server decides, a refused or missing scorecard shows nothing).
import { lazy, Suspense } from 'react';
import { Skeleton } from 'antd';
import type { RecordExtension } from '../extensions';
import { OrderFromRequisition } from './OrderFromRequisition';
import { ScorecardTabLabel } from './labels';

const Scorecard = lazy(() => import('./Scorecard'));

export const procurement: RecordExtension = {
  actions: ({ def, record, byName }) =>
    def.app === 'procurement' &&
    def.name === 'purchase_requisition' &&
    (record.state === 'approved' || record.state === 'ordered') &&
    byName('purchase_order')?.permissions.create
      ? [<OrderFromRequisition key="order-from-requisition" requisition={record} />]
      : [],
  tabs: ({ def, record, byName }) => {
    const roles = Array.isArray(record.roles) ? record.roles : [];
    if (def.name !== 'party' || !roles.includes('supplier') || !byName('supplier_profile')?.permissions.read) return [];
    return [
      {
        key: 'scorecard',
        label: <ScorecardTabLabel />,
        children: (
          <Suspense fallback={<Skeleton active />}>
            <Scorecard party={record.id} />
          </Suspense>
        ),
      },
    ];
  },
};
