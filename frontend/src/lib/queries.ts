import { useQuery, type QueryClient } from "@tanstack/react-query";
import { useSession } from "../auth";
import { passageThreads } from "./api";
import {
  listSources,
  listTopicThreads,
  listWorkspaces,
  sourceDetails,
  topicThread,
  topicThreadSettings,
  topicThreadSources,
} from "./rpc";

/** While conversations wait for their embeddings, threads change on their own: look again,
 * for a few minutes at most (a conversation that never gets embedded must not poll forever). */
const WHILE_GROUPING_MS = 4000;
const MAX_POLLS = 60;

function pollWhile(waiting: boolean, polls: number): number | false {
  return waiting && polls < MAX_POLLS ? WHILE_GROUPING_MS : false;
}

/** Query keys carry the user id, so one person's cache never answers for another. */
export function useWorkspaces() {
  const userId = useSession().user.id;
  return useQuery({ queryKey: ["workspaces", userId], queryFn: listWorkspaces });
}

/** The caller's newest sources; with projectId, that project's only. */
export function useSources(projectId?: string) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["sources", userId, projectId ?? null],
    queryFn: () => listSources(undefined, 200, 0, projectId),
  });
}

export function useSourceDetails(sourceId: string) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["source-details", userId, sourceId],
    queryFn: () => sourceDetails(sourceId),
    // A fresh import is put in a thread once it is embedded: keep looking until then.
    refetchInterval: (query) =>
      pollWhile(!!query.state.data && !query.state.data.thread_id, query.state.dataUpdateCount),
  });
}

export function usePassageThreads(chunkId: number) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["passage-threads", userId, chunkId],
    queryFn: () => passageThreads(chunkId),
  });
}

export function useThreadSettings(workspaceId: string) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["thread-settings", userId, workspaceId],
    queryFn: () => topicThreadSettings(workspaceId),
    refetchInterval: (query) => pollWhile((query.state.data?.unthreaded ?? 0) > 0, query.state.dataUpdateCount),
  });
}

export function useTopicThreads(workspaceId: string, grouping: boolean) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["topic-threads", userId, workspaceId],
    queryFn: () => listTopicThreads(workspaceId),
    refetchInterval: (query) => pollWhile(grouping, query.state.dataUpdateCount),
  });
}

export function useTopicThread(threadId: string) {
  const userId = useSession().user.id;
  return useQuery({ queryKey: ["topic-thread", userId, threadId], queryFn: () => topicThread(threadId) });
}

export function useThreadSources(threadId: string) {
  const userId = useSession().user.id;
  return useQuery({
    queryKey: ["thread-sources", userId, threadId],
    queryFn: () => topicThreadSources(threadId),
  });
}

/** Merges, splits, renames, regrouping and summaries all change what the thread views show. */
export function invalidateThreads(queryClient: QueryClient): Promise<unknown> {
  return Promise.all(
    ["topic-threads", "topic-thread", "thread-sources", "thread-settings", "source-details"].map((key) =>
      queryClient.invalidateQueries({ queryKey: [key] }),
    ),
  );
}
