import { Table, Text } from "@mantine/core";

import { formatPrice } from "../../lib/money";
import type { PriceBreakdown } from "../../lib/orders";

/**
 * Two columns (what, amount) so it fits a 390 px phone: each flight's line says the fare times the
 * seated passengers, and the infants' 10% fare under it.
 */
export default function PriceBreakdownTable({ breakdown, total }: { breakdown: PriceBreakdown; total?: number }) {
  return (
    <Table data-testid="price-breakdown" verticalSpacing={6} layout="fixed">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Flight</Table.Th>
          <Table.Th ta="right" w={110}>
            Amount
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {breakdown.lines.map((line) => (
          <Table.Tr key={line.flight.id} data-testid="price-line">
            <Table.Td style={{ overflowWrap: "anywhere" }}>
              <Text size="sm" fw={500}>
                <Text span ff="monospace" size="sm">
                  {line.flight.flight_number}
                </Text>{" "}
                {line.flight.source} → {line.flight.destination}
              </Text>
              <Text size="xs" c="dimmed" className="tabular">
                {formatPrice(line.flight.price)} × {line.seated} {line.seated === 1 ? "seat" : "seats"}
                {line.infants > 0 &&
                  ` + ${formatPrice(line.infantFare)} × ${line.infants} ${line.infants === 1 ? "infant" : "infants"} (10%)`}
              </Text>
            </Table.Td>
            <Table.Td ta="right" className="tabular" data-testid="price-line-amount">
              {formatPrice(line.amount)}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
      <Table.Tfoot>
        <Table.Tr>
          <Table.Th>Total</Table.Th>
          <Table.Th ta="right" className="tabular" data-testid="order-total">
            {formatPrice(total ?? breakdown.total)}
          </Table.Th>
        </Table.Tr>
      </Table.Tfoot>
    </Table>
  );
}
