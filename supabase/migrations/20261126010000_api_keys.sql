-- Users' own provider keys (bring your own key), encrypted by the API with AES-256-GCM.
-- The database never sees plaintext; clients see the provider and the last four characters.
create table public.api_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  provider text not null check (provider in ('openai', 'gemini')),
  ciphertext bytea not null,
  nonce bytea not null check (octet_length(nonce) = 12),
  key_version integer not null check (key_version >= 1),
  last_four text not null check (char_length(last_four) <= 4),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, provider)
);

alter table public.api_keys enable row level security;

create policy "users see their own keys"
  on public.api_keys for select to authenticated
  using (user_id = (select auth.uid()));

create policy "users remove their own keys"
  on public.api_keys for delete to authenticated
  using (user_id = (select auth.uid()));

-- Column privileges: the ciphertext columns are never granted to the API roles. Keys are
-- written and decrypted only by the Python API (service role), which holds ENCRYPTION_KEY.
revoke all on table public.api_keys from anon, authenticated;
grant select (user_id, provider, key_version, last_four, created_at, updated_at)
  on table public.api_keys to authenticated;
grant delete on table public.api_keys to authenticated;
