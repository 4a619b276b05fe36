export function TopicChips({ topics, label = "Key topics" }: { topics: string[]; label?: string }) {
  if (topics.length === 0) return null;
  return (
    <ul className="chips" aria-label={label}>
      {topics.map((topic) => (
        <li key={topic} className="chip">
          {topic}
        </li>
      ))}
    </ul>
  );
}
