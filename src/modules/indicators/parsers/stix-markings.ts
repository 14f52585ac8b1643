import { Tlp } from "../../access/tlp";

/**
 * The TLP 1.0 marking definitions STIX 2.1 predefines (section 7.2.1.4). Their ids are fixed by the
 * standard, so a bundle may reference them without including them. TLP 1.0 WHITE is TLP 2.0 CLEAR.
 */
export const TLP1_MARKING_IDS: Readonly<Record<string, Tlp>> = {
  "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR, // TLP:WHITE
  "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
  "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
  "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
};

/** The id of the OASIS TLP 2.0 marking extension (cti-stix-common-objects, tlp-2.0). */
export const TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/** The five TLP 2.0 marking definitions, with the ids the extension's schema pins. */
export const TLP2_MARKING_IDS: Readonly<Record<string, Tlp>> = {
  "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
  "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
  "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
  "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
  "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
};

/** Every marking-definition id whose TLP level is fixed by a standard, TLP 1.0 and 2.0. */
export const STANDARD_TLP_MARKINGS: ReadonlyMap<string, Tlp> = new Map([
  ...Object.entries(TLP1_MARKING_IDS),
  ...Object.entries(TLP2_MARKING_IDS),
]);
