import { Alert, Badge, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconDownload } from "@tabler/icons-react";

import * as ops from "../../services/operations";
import { errorMessage } from "../../services/errors";
import type { ImportJob } from "../../types/operations";

const STATUS_COLOR: Record<ImportJob["status"], string> = { PENDING: "gray", IN_PROGRESS: "blue", COMPLETED: "green", FAILED: "red" };
const when = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** The last CSV imports, with each one's bad rows downloadable as a CSV. */
export default function RecentImports() {
  const jobs = useQuery({ queryKey: ["admin", "operations", "imports"], queryFn: () => ops.importJobs(10), refetchInterval: 10_000 });
  const download = useMutation({ mutationFn: (jobId: string) => ops.downloadErrorsCsv(jobId) });

  return (
    <Stack gap="sm">
      {(jobs.isError || download.isError) && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert">
          {errorMessage(jobs.error ?? download.error)}
        </Alert>
      )}
      {jobs.data && jobs.data.length === 0 && (
        <Text c="dimmed" size="sm">
          No imports yet.
        </Text>
      )}
      {jobs.data?.map((job) => {
        const s = job.summary;
        return (
          <Paper key={job.job_id} withBorder p="sm" data-testid="import-job" data-status={job.status}>
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Stack gap={2} style={{ minWidth: 0 }}>
                <Group gap="xs" wrap="wrap">
                  <Badge color={STATUS_COLOR[job.status]} variant="light">
                    {job.status.replace("_", " ")}
                  </Badge>
                  <Text size="sm" c="dimmed" className="tabular">
                    {when.format(new Date(job.created_at))}
                  </Text>
                  {job.filename && (
                    <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                      {job.filename}
                    </Text>
                  )}
                </Group>
                {s && (
                  <Text size="sm" className="tabular" data-testid="import-counts">
                    {s.total_rows} rows · {s.inserted} added · {s.updated} updated · {s.failed} failed
                  </Text>
                )}
              </Stack>
              {s && s.failed > 0 && (
                <Button
                  size="xs"
                  variant="light"
                  leftSection={<IconDownload size={14} />}
                  loading={download.isPending && download.variables === job.job_id}
                  onClick={() => download.mutate(job.job_id)}
                  data-testid="import-errors-csv"
                >
                  Errors (CSV)
                </Button>
              )}
            </Group>
          </Paper>
        );
      })}
    </Stack>
  );
}
