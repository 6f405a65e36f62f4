import { Workspace } from "@/components/workspace";
import { readConfig } from "@/lib/server/config";

export default function HomePage() {
  return <Workspace chatkitEnabled={readConfig().chatkitDomainKey !== null} />;
}
