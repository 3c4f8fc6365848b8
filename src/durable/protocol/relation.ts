/** Two users' relation as the first one's hub holds it (UserHub.relation); read by conversations too. */
export interface Relation {
  friend: boolean;
  blocks: boolean;
  blockedBy: boolean;
}
