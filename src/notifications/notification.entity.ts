import { EntitySchema } from 'typeorm'
import type { NoticeData, NoticeEvent } from './events.js'

/** One notice as one institution sees it in `GET /notifications`; its id is the webhook payload's `id`. */
export interface NotificationRow {
  id: string
  institutionId: string
  event: NoticeEvent
  data: NoticeData
  createdAt: string
}

export const NotificationEntity = new EntitySchema<NotificationRow>({
  name: 'Notification',
  tableName: 'medcred_notification',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    institutionId: { type: 'varchar', length: 36 },
    event: { type: 'varchar', length: 64 },
    data: { type: 'simple-json' },
    createdAt: { type: 'varchar', length: 30 },
  },
  indices: [{ name: 'IDX_notification_institution_created', columns: ['institutionId', 'createdAt'] }],
})
