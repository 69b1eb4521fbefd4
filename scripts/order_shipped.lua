-- Transactional notice: the order has shipped, with its number and tracking
-- link; by SMS too when the contact has a phone. Transactional messages skip
-- marketing consent.
local texts = {
  en = "Order {{event.properties.order_id}} is on its way: {{event.properties.tracking_url}}",
  fa = "سفارش {{event.properties.order_id}} ارسال شد: {{event.properties.tracking_url}}",
  ru = "Заказ {{event.properties.order_id}} в пути: {{event.properties.tracking_url}}",
}

return journey {
  name    = "order_shipped",
  trigger = "Order Shipped",
  reentry = true,
  steps   = function(ctx)
    local text = texts[ctx.contact.locale] or texts.en
    email { kind = "transactional", subject = "Shipped: order {{event.properties.order_id}}", text = text,
            html = "<p>Order <b>{{event.properties.order_id}}</b> shipped via {{event.properties.carrier}}.</p>"
              .. "<p><a href=\"{{event.properties.tracking_url}}\">Track it</a></p>" }
    if ctx.contact.phone then sms { kind = "transactional", text = text } end
  end,
}
