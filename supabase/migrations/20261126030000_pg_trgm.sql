-- Trigram similarity for search suggestions (typo-tolerant prefix matching). In schema
-- `extensions`, as Supabase recommends; functions are called schema-qualified.
create extension if not exists pg_trgm with schema extensions;
