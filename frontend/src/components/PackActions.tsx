import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { conversationPack, packFileName, type Pack } from "../lib/agents";
import { plural } from "../lib/format";

const BUDGETS = [500, 1000, 2000, 4000, 8000];

/** A conversation's context pack (Markdown to carry it into another assistant): copied to
 * the clipboard or downloaded, within the token budget picked. */
export function PackActions({ conversationId }: { conversationId: string }) {
  const [budget, setBudget] = useState(2000);
  const [done, setDone] = useState<string | null>(null);
  const make = useMutation({ mutationFn: () => conversationPack(conversationId, budget) });

  async function run(action: (pack: Pack) => Promise<void> | void, label: string) {
    setDone(null);
    const pack = await make.mutateAsync();
    await action(pack);
    const cited = plural(pack.cited.length, "passage");
    setDone(`${label}: ${plural(pack.tokens, "token")}, ${cited} cited${pack.truncated ? " (cut to fit)" : ""}.`);
  }

  function download(pack: Pack) {
    const url = URL.createObjectURL(new Blob([pack.markdown], { type: "text/markdown" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = packFileName(pack.title);
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <div className="pack-actions small" aria-label="Context pack">
      <label className="inline">
        Context pack of{" "}
        <select value={budget} onChange={(e) => setBudget(Number(e.target.value))} aria-label="Pack budget in tokens">
          {BUDGETS.map((b) => (
            <option key={b} value={b}>
              {b} tokens
            </option>
          ))}
        </select>
      </label>{" "}
      <button
        type="button"
        disabled={make.isPending}
        onClick={() => void run((p) => navigator.clipboard.writeText(p.markdown), "Copied")}
      >
        Copy pack
      </button>{" "}
      <button type="button" disabled={make.isPending} onClick={() => void run(download, "Downloaded")}>
        Download pack
      </button>
      {done && <span role="status"> {done}</span>}
      {make.error && (
        <span role="alert" className="error">
          {" "}
          {make.error.message}
        </span>
      )}
    </div>
  );
}
