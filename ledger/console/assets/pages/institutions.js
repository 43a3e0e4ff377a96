// Institutions: every registered institution, with its kind.

import { get, path } from "../api.js";
import { h, link, notice, table } from "../dom.js";

const KINDS = {
  bank: "Bank",
  guarantor: "Guarantor",
  reguarantor: "Re-guarantor",
  national_fund: "National fund",
  compensation_pool: "Compensation pool",
  reviewer: "Reviewer",
};

/** The institution list. */
export async function render(el) {
  el.append(h("h1", {}, "Institutions"));
  const body = await get("/v1/institutions");
  if (!body.institutions.length) el.append(notice("info", "No institution is registered yet."));
  else el.append(table("Registered institutions", ["Institution", "Name", "Kind"],
    body.institutions.map((i) => [link(path`/console/institutions/${i.institution_id}`, i.institution_id), i.name, KINDS[i.kind] || i.kind])));
}
