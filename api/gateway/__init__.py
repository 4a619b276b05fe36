"""The local Supabase gateway: `/auth/v1` (GoTrue's email, refresh-token and anonymous
flows) and `/rest/v1/rpc/<fn>` (PostgREST's RPC semantics) on one origin, so the real
Supabase clients work against the local stack. Local use only; production uses Supabase."""

from api.gateway.app import create_gateway
from api.gateway.dispatch import with_gateway
from api.gateway.keys import LocalKeys, local_secrets, mint_api_key

__all__ = ["LocalKeys", "create_gateway", "local_secrets", "mint_api_key", "with_gateway"]
