-- pgvector lives in the `extensions` schema, as Supabase recommends.
create schema if not exists extensions;
create extension if not exists vector with schema extensions;
