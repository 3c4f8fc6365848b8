/** Options of a gateway's `deliver`: whom not to send to, and the message's position for de-duplication. */
export interface DeliveryOptions {
  /** The sending socket's connection id: that socket gets an `ack`, not the message. */
  exceptConn?: string | undefined;
  conversationId?: string | undefined;
  seq?: number | undefined;
  /** The sender's trace, continued by the delivery's span. */
  traceparent?: string | undefined;
}
