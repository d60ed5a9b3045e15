import { DeliveryEntity } from './delivery.entity.js'
import { NotificationEntity } from './notification.entity.js'
import { WebhookEntity } from './webhook.entity.js'

/** The notifications capability's tables, for the DataSource's entity list. */
export const notificationEntities = [WebhookEntity, NotificationEntity, DeliveryEntity]
