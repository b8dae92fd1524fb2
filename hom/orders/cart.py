"""The cart: one Redis hash per user (product id → quantity) and the rules of changing it.

Redis holds it alone (SPEC §1: losing Redis may empty carts, never lose an order), under
`<REDIS_PREFIX>cart:<user id>`. Every change is one Lua script (atomic: two concurrent
adds to one line add both; the line and per-line caps hold under concurrency) that
sets the hash's TTL again (`CART_TTL_DAYS`) and answers the whole cart as it left it.
Redis being down raises redis-py's ConnectionError/TimeoutError, which the edge reports
as SERVICE_UNAVAILABLE: a cart is never silently empty because Redis is away.

Checkout reads the cart with `lines(redis=, keys=, user_id=)` and empties it with
`clear(redis=, keys=, user_id=)`.
"""

from __future__ import annotations

from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog import service as catalog
from hom.core.errors import DomainError, ErrorCode
from hom.core.redis import RedisKeys

MIN_QUANTITY = 1
MAX_QUANTITY = 99  # per line
MAX_LINES = 50
SECONDS_PER_DAY = 86_400

# A cart's lines: product id → quantity.
Lines = dict[int, int]

# KEYS[1]: the cart. ARGV: product id, quantity, "add" (to the line) or "set" (the
# line's quantity), most per line, most lines, TTL in seconds.
# Answers {"ok", field, value, …} (the whole cart after the change), {"missing"} (set:
# no such line), {"full"} (a new line beyond the most lines), {"over", current}.
_CHANGE = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local quantity = tonumber(ARGV[2])
if current == nil then
  if ARGV[3] == 'set' then return {'missing'} end
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return {'full'} end
elseif ARGV[3] == 'add' then
  quantity = current + quantity
end
if quantity > tonumber(ARGV[4]) then return {'over', tostring(current or 0)} end
redis.call('HSET', KEYS[1], ARGV[1], quantity)
redis.call('EXPIRE', KEYS[1], ARGV[6])
local cart = redis.call('HGETALL', KEYS[1])
table.insert(cart, 1, 'ok')
return cart
"""

# KEYS[1]: the cart. ARGV: product id, TTL in seconds. Answers the cart after it.
_REMOVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
"""


def _lines(flat: list[str]) -> Lines:
    """HGETALL's flat answer (field, value, …) as lines."""
    return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


class CartStore:
    """The carts in Redis: reads, and the atomic changes (no rules about products)."""

    def __init__(self, redis: Redis, keys: RedisKeys, ttl_days: int = 30) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_seconds = ttl_days * SECONDS_PER_DAY
        self._change = redis.register_script(_CHANGE)
        self._remove = redis.register_script(_REMOVE)

    def key(self, user_id: int) -> str:
        return self.keys("cart", str(user_id))

    async def lines(self, user_id: int) -> Lines:
        """The user's cart (empty when there is none, or it expired)."""
        return {int(p): int(q) for p, q in (await self.redis.hgetall(self.key(user_id))).items()}

    async def add(self, user_id: int, product_id: int, quantity: int) -> Lines:
        """Add `quantity` to the product's line (a new line if there is none)."""
        return await self._changed(user_id, product_id, quantity, "add")

    async def set(self, user_id: int, product_id: int, quantity: int) -> Lines:
        """Set the quantity of the product's line, which must be in the cart."""
        return await self._changed(user_id, product_id, quantity, "set")

    async def remove(self, user_id: int, product_id: int) -> Lines:
        """Remove the product's line (nothing to do when there is none)."""
        flat = await self._remove(keys=[self.key(user_id)], args=[product_id, self.ttl_seconds])
        return _lines(flat)

    async def clear(self, user_id: int) -> None:
        await self.redis.delete(self.key(user_id))

    async def _changed(self, user_id: int, product_id: int, quantity: int, mode: str) -> Lines:
        # Note: redis-py retries a command once on a dropped connection; should Redis have
        # run an "add" whose answer was lost that way, it runs twice (still within caps).
        caps = [MAX_QUANTITY, MAX_LINES, self.ttl_seconds]
        args: list[int | str] = [product_id, quantity, mode, *caps]
        status, *rest = await self._change(keys=[self.key(user_id)], args=args)
        if status == "ok":
            return _lines(rest)
        if status == "missing":
            raise DomainError(ErrorCode.NOT_FOUND, "This product is not in your cart", "product_id")
        if status == "full":
            raise DomainError(
                ErrorCode.INVALID,
                f"A cart holds at most {MAX_LINES} different products; remove one first",
                "product_id",
            )
        raise DomainError(
            ErrorCode.INVALID,
            f"At most {MAX_QUANTITY} of one product per cart (it holds {rest[0]} already)",
            "quantity",
        )


async def lines(*, redis: Redis, keys: RedisKeys, user_id: int) -> Lines:
    """The user's cart, product id → quantity (empty when there is none): for checkout.

    The products may since have been archived or deleted; the caller checks them."""
    return await CartStore(redis, keys).lines(user_id)


async def clear(*, redis: Redis, keys: RedisKeys, user_id: int) -> None:
    """Empty the user's cart (checkout, after its transaction committed)."""
    await CartStore(redis, keys).clear(user_id)


def _check_quantity(quantity: int) -> None:
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise DomainError(
            ErrorCode.INVALID,
            f"Quantity is {MIN_QUANTITY} to {MAX_QUANTITY} (removeFromCart removes a line)",
            "quantity",
        )


async def _require_active_product(session: AsyncSession, product_id: int) -> None:
    product = await catalog.get_product(session, product_id=product_id)
    if product is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such product", "product_id")
    if not product.is_active:
        raise DomainError(
            ErrorCode.PRODUCT_UNAVAILABLE, f"{product.name} is no longer sold", "product_id"
        )


async def add_to_cart(
    session: AsyncSession, *, store: CartStore, user_id: int, product_id: int, quantity: int
) -> Lines:
    """Add `quantity` (1 to 99) of an active product, to its line if the cart has one; the
    line stays within 99 and the cart within 50 lines, or nothing changes."""
    _check_quantity(quantity)
    await _require_active_product(session, product_id)
    return await store.add(user_id, product_id, quantity)


async def update_cart_item(
    session: AsyncSession, *, store: CartStore, user_id: int, product_id: int, quantity: int
) -> Lines:
    """Set the quantity (1 to 99) of a line the cart holds, of a product still sold."""
    _check_quantity(quantity)
    await _require_active_product(session, product_id)
    return await store.set(user_id, product_id, quantity)


async def remove_from_cart(*, store: CartStore, user_id: int, product_id: int) -> Lines:
    """Remove a product's line, whatever became of the product; none to remove is fine."""
    return await store.remove(user_id, product_id)


async def clear_cart(*, store: CartStore, user_id: int) -> Lines:
    """Empty the cart."""
    await store.clear(user_id)
    return {}
