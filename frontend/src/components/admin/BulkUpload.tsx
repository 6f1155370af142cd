import { Alert, Badge, Button, FileInput, Group, Paper, Progress, ScrollArea, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconAlertTriangle, IconFileTypeCsv, IconUpload } from "@tabler/icons-react";
import { useEffect, useState } from "react";

import { jobOutcome, progressOf } from "../../lib/importJob";
import * as api from "../../services/api";
import { errorMessage } from "../../services/errors";
import type { JobStatus } from "../../types";

// The job being watched survives a reload of the page (it keeps running on the server anyway).
const JOB_KEY = "flightdesk.bulkJob";
const FINISHED: JobStatus[] = ["COMPLETED", "FAILED"];

export default function BulkUpload() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [jobId, setJobId] = useState<string | null>(() => sessionStorage.getItem(JOB_KEY));

  const upload = useMutation({
    mutationFn: (f: File) => api.uploadFlightsCsv(f),
    // A new upload starts: the previous import's card is about another file and leaves the screen.
    onMutate: () => {
      sessionStorage.removeItem(JOB_KEY);
      setJobId(null);
    },
    onSuccess: (job) => {
      sessionStorage.setItem(JOB_KEY, job.job_id);
      setJobId(job.job_id);
      setFile(null);
    },
  });

  const status = useQuery({
    queryKey: ["bulk-job", jobId],
    queryFn: () => api.uploadStatus(jobId!),
    enabled: jobId !== null,
    refetchInterval: (query) => (query.state.data && FINISHED.includes(query.state.data.status) ? false : 500),
  });

  const job = status.data;
  const finished = job !== undefined && FINISHED.includes(job.status);
  useEffect(() => {
    if (job?.status === "COMPLETED") {
      void queryClient.invalidateQueries({ queryKey: ["admin"] });
      void queryClient.invalidateQueries({ queryKey: ["airports"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
    }
  }, [job?.status, queryClient]);

  const summary = job?.summary;
  const percent = progressOf(job);
  const outcome = job ? jobOutcome(job) : null;

  return (
    <Stack gap="md">
      <Paper withBorder p="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (file) upload.mutate(file);
          }}
          aria-label="Upload flights CSV"
        >
          <Stack gap="sm">
            <Text size="sm" c="dimmed">
              A CSV with the header{" "}
              {/* One long word: allowed to break anywhere so it never widens the page on a phone. */}
              <code style={{ overflowWrap: "anywhere" }}>flight_number,source,destination,departure_ts,arrival_ts,total_seats,price</code>{" "}
              (any order; timestamps with an offset). Existing flights (same number and departure) are updated; bad rows are
              reported and skipped.
            </Text>
            <Group align="flex-end" wrap="wrap">
              <FileInput
                label="CSV file"
                placeholder="Choose a .csv file"
                accept=".csv,text/csv"
                value={file}
                onChange={setFile}
                clearable
                leftSection={<IconFileTypeCsv size={18} />}
                data-testid="csv-input"
                style={{ flex: "1 1 260px" }}
              />
              <Button type="submit" leftSection={<IconUpload size={16} />} disabled={!file} loading={upload.isPending} data-testid="csv-upload">
                Upload
              </Button>
            </Group>
            {upload.isError && (
              <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="csv-upload-error">
                {errorMessage(upload.error)}
              </Alert>
            )}
          </Stack>
        </form>
      </Paper>

      {jobId && (
        <Paper withBorder p="md" data-testid="job" data-status={job?.status} data-outcome={outcome?.tone}>
          <Stack gap="sm">
            <Group justify="space-between" gap="xs">
              <Title order={3} size="h5">
                Import {jobId.slice(0, 8)}
              </Title>
              {outcome && (
                <Badge color={outcome.color} data-testid="job-status" style={{ maxWidth: "100%" }}>
                  {outcome.label}
                </Badge>
              )}
            </Group>
            {outcome?.tone === "warning" && summary && (
              <Alert color="yellow" icon={<IconAlertTriangle />} data-testid="job-warning" role="status">
                {outcome.label}: {summary.failed.toLocaleString("en-IN")} of {summary.total_rows.toLocaleString("en-IN")} rows
                were not imported (the rows below say why); the other rows were.
              </Alert>
            )}
            {status.isError && (
              <Alert color="red" icon={<IconAlertCircle />} role="alert">
                {errorMessage(status.error)}
              </Alert>
            )}
            <Progress
              value={percent}
              animated={!finished}
              striped={!finished}
              color={outcome?.tone === "running" || outcome?.tone === "waiting" || !outcome ? "blue" : outcome.color}
              size="lg"
              aria-label="Import progress"
              data-testid="job-progress"
            />
            <Text size="sm" className="tabular" aria-live="polite">
              {summary
                ? `${summary.processed_rows.toLocaleString("en-IN")} of ${summary.total_rows.toLocaleString("en-IN")} rows processed (${percent}%)`
                : "Waiting to start…"}
            </Text>
            {summary && (
              <SimpleGrid cols={{ base: 3 }} maw={420}>
                <Stat label="Inserted" value={summary.inserted} testId="job-inserted" />
                <Stat label="Updated" value={summary.updated} testId="job-updated" />
                <Stat label="Failed" value={summary.failed} testId="job-failed" color={summary.failed > 0 ? "red" : undefined} />
              </SimpleGrid>
            )}
            {summary && summary.errors.length > 0 && (
              <Stack gap={4}>
                <Text fw={600} size="sm">
                  Rows with errors{summary.failed > summary.errors.length ? ` (first ${summary.errors.length} of ${summary.failed})` : ""}
                </Text>
                <ScrollArea.Autosize mah={320} type="auto">
                  <Table striped data-testid="job-errors" verticalSpacing={4}>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th w={80}>Line</Table.Th>
                        <Table.Th>Error</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {summary.errors.map((e) => (
                        <Table.Tr key={`${e.row}:${e.error}`}>
                          <Table.Td className="tabular">{e.row}</Table.Td>
                          <Table.Td>{e.error}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </ScrollArea.Autosize>
              </Stack>
            )}
            {finished && (
              <Button
                variant="subtle"
                size="xs"
                w="fit-content"
                onClick={() => {
                  sessionStorage.removeItem(JOB_KEY);
                  setJobId(null);
                }}
              >
                Dismiss
              </Button>
            )}
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}

function Stat({ label, value, testId, color }: { label: string; value: number; testId: string; color?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="lg" c={color} className="tabular" data-testid={testId}>
        {value.toLocaleString("en-IN")}
      </Text>
    </Stack>
  );
}
