import { useQuery } from "@tanstack/react-query";
import { useSession } from "../auth";
import { listSources, listWorkspaces } from "./rpc";

/** Query keys carry the user id, so one person's cache never answers for another. */
export function useWorkspaces() {
  const userId = useSession().user.id;
  return useQuery({ queryKey: ["workspaces", userId], queryFn: listWorkspaces });
}

export function useSources() {
  const userId = useSession().user.id;
  return useQuery({ queryKey: ["sources", userId], queryFn: () => listSources() });
}
