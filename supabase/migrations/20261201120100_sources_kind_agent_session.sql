-- Coding-agent sessions (Claude Code, Codex CLI, Gemini CLI) are a kind of source; the
-- platform names the agent. The new check is validated by the next migration, so adding it
-- does not hold a lock on sources while every row is checked.
-- The old check is replaced in the same transaction by a wider one: no guarantee is lost.
-- squawk-ignore ban-drop-constraint
alter table public.sources drop constraint sources_kind_check;

alter table public.sources add constraint sources_kind_check check (kind in (
  'chatgpt_export', 'chatgpt_share', 'claude_export', 'gemini_takeout', 'gemini_pdf',
  'youtube', 'pdf', 'text', 'markdown', 'html', 'agent_session'
)) not valid;
