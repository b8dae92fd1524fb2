"""Orders: the cart (in Redis), checkout, and an order's life from payment to delivery."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:CartQuery", "schema:OrdersQuery"),
    mutations=("schema:CartMutation", "schema:OrdersMutation"),
    models="models",
    jobs="jobs:periodic_jobs",
    export="export:export_section",
    demo="demo:seed",
)
