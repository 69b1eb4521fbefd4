-- Activation: sign-ups who have not used the product. Three days after
-- sign-up, a how-to email unless they have used it; four days later, a push
-- with a shortcut if they still have not.
return journey {
  name    = "activation",
  trigger = "Signed Up",
  goal    = "Product Used",
  exit_on = { "Unsubscribed" },
  reentry = false,
  steps   = function(ctx)
    wait "3d"
    email { subject = "Your first step takes two minutes, {{contact.first_name | default \"there\"}}",
            text    = "Open the app and save your sizes: {{event.properties.app_url | default \"https://shop.test/app\"}}" }
    wait "4d"
    push { title = "Ready when you are", body = "Tap to set up your account in two minutes." }
  end,
}
