import { Link } from "react-router-dom";
import { plural } from "../lib/format";
import type { TopicThreadRow } from "../lib/rpc";
import { activityRange, threadTitle } from "../lib/threads";
import { PlatformIcon } from "./PlatformIcon";
import { TopicChips } from "./TopicChips";

/** Conversations, passages, platforms and when: the numbers a thread row and page share. */
export function ThreadStats({ thread }: { thread: TopicThreadRow }) {
  return (
    <p className="thread-stats muted small">
      <span className="platforms">
        {thread.platforms.map((p) => (
          <PlatformIcon key={p} platform={p} />
        ))}
      </span>
      {plural(thread.conversations, "conversation")} · {plural(thread.passages, "passage")} ·{" "}
      {activityRange(thread.first_activity, thread.last_activity)}
    </p>
  );
}

export function ThreadListItem({
  thread,
  selected,
  onToggle,
}: {
  thread: TopicThreadRow;
  selected: boolean;
  onToggle: (selected: boolean) => void;
}) {
  const title = threadTitle(thread);
  return (
    <li className="thread-row card">
      <input
        type="checkbox"
        className="row-check"
        aria-label={`Select ${title}`}
        checked={selected}
        onChange={(e) => onToggle(e.target.checked)}
      />
      <div className="thread-main">
        <Link to={`/threads/${thread.id}`} className="result-title">
          {title}
        </Link>
        <ThreadStats thread={thread} />
        <TopicChips topics={thread.key_topics} />
      </div>
    </li>
  );
}
