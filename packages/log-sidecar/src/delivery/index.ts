export type { Acknowledgement, Delivery, DrainReport, UndeliveredEntry } from './delivery.js';
export { createDelivery, type DeliveryOptions, type OnDeadline } from './delivery-driver.js';
