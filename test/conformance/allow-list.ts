/**
 * Differences from Apache ZooKeeper 3.8.0 that are accepted: each is an Apache bug
 * that our server deliberately does not copy, and names the upstream JIRA issue.
 * Add an entry only with the JIRA identified (and a matcher as narrow as possible).
 */
import type { AllowEntry } from './compare.js';

export const ALLOW_LIST: readonly AllowEntry[] = [];
